"""Stock: reserve, commit and release per order, expire abandoned reservations.

Two documents take part, and nothing about past sales is kept on the product:

- The product holds the counters ``quantity`` (available), ``reserved`` and ``sold``, and
  ``holds``: the stock reserved per order while a reservation is in flight (pending, reserved,
  or committed until the commit has moved its stock). A hold leaves the list when its stock is
  sold or given back, so the list is never longer than the units reserved.
- The ``Reservation`` (one per order id, unique) is the order's record: its items and its
  state. A committed reservation is the record of the sale.

Every change to a product's stock is one conditional atomic update of its document, so
available stock never goes below zero and ``quantity + reserved + sold`` stays constant (only a
restock changes it). A hold is taken only when the order holds none of the product yet, and is
turned into a sale or given back only while it is there, so each of those steps happens at most
once per order and product, and repeating one is harmless.

Concurrent commit, release and expiry of one order are serialised by the reservation's state:
each first moves it with one conditional update (PENDING → RESERVED → COMMITTED; PENDING or
RESERVED → RELEASED or EXPIRED; COMMITTED → RELEASED), and only the caller whose move matched
moves stock, knowing from that move's filter which state the reservation left. Leaving PENDING
or RESERVED gives back the holds (a line not held yet gets nothing back; its maker, finding the
state moved, gives back what it took). A reservation leaves COMMITTED at most once: the release
that does it first puts a fresh token on each of its products (``returns``), then moves the
state recording that token. Per product, the one update that consumes the token gives the units
back: the hold if the commit has not turned it into a sale yet, otherwise the sold units
(guarded by ``sold >= n``). The hold goes to exactly one of the commit and that update, and the
token to one update, so the stock comes back once; each returned line is then marked
``returned`` on the reservation.

Giving back happens after the state move, so a crash between them leaves an inactive
reservation with stock still out. Whatever is left is finished by any later release of it
(holds are given back per order, a committed release's lines through its token) and by the
periodic repair (``products.stock_audit``), which also finds holds whose reservation is gone
and counters that disagree with the reservations.

A reservation is inserted as PENDING before any stock moves (the unique order id makes a repeat
find the first one), its products are held in a fixed order (by id), and what was taken is given
back when one is short, so it is all or nothing without multi-document transactions (a
standalone mongod has none). A reservation left PENDING by a crash is expired by the sweep,
which gives back whatever it holds; a commit interrupted after its state move is finished by
repeating it, or undone by a release.

Round trips to the store for an order of n products: reserve 2 + n (insert, holds, state
move), commit 1 + n, release 1 + n (3 + 3n to 3 + 4n for a committed one), the old commit 3 + n.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from django.utils import timezone

from products import queries
from products.constants import INACTIVE_STATES, ReservationState
from products.errors import (
    InsufficientStock,
    OrderIdReused,
    ReservationInProgress,
    ReservationNotActive,
    ReservationNotFound,
    UnknownProduct,
)
from products.metrics import STOCK_RESERVATIONS_REFUSED
from products.models import Product, Reservation
from products.store import collection as _collection
from products.store import find_one, insert, model_from_document
from products.store import from_store as _from_store

logger = logging.getLogger(__name__)

# A reservation still pending after this long was interrupted; the sweep undoes it.
PENDING_GRACE = timedelta(minutes=2)
# How long a request for an order id whose reservation is pending waits for it to settle.
IN_PROGRESS_WAIT_SECONDS = 2.0
# Looks a commit or release takes at a reservation that moves under it. Each look follows one
# move, and a reservation moves only a few times in its life (pending, reserved, committed,
# released), so this bound is reached only by a reservation that keeps being refused and made
# again; the caller is then told to retry (409 reservation_in_progress).
MOVE_TRIES = 8


@dataclass(frozen=True)
class StockLine:
    product_id: ObjectId
    quantity: int


# --- per-product steps: one conditional update each ------------------------------------------


def _hold(product_id: ObjectId, order_id: str, quantity: int) -> dict[str, Any] | None:
    """Move ``quantity`` from available to reserved for the order, if that much is available.

    Returns the product's title and price (read after the update: stock moves never change
    them); None when nothing was held (no such product, not enough available, or already held
    for this order). Two indexed round trips rather than one ``find_one_and_update``: see
    ``_move_state_of``.
    """
    held = _collection(Product).update_one(
        queries.product_available(
            product_id=product_id, order_id=order_id, quantity=quantity
        ).filter,
        {
            "$inc": {"quantity": -quantity, "reserved": quantity},
            "$push": {"holds": {"orderId": order_id, "quantity": quantity}},
        },
    )
    if held.modified_count != 1:
        return None
    read = queries.product_by_id(product_id=product_id, projection={"title": 1, "price": 1})
    return _collection(Product).find_one(read.filter, read.projection)


def _unhold(product_id: ObjectId, order_id: str, quantity: int) -> bool:
    """Return the order's reserved stock to available (no-op when it holds none)."""
    result = _collection(Product).update_one(
        queries.product_held_for(product_id=product_id, order_id=order_id).filter,
        {
            "$inc": {"quantity": quantity, "reserved": -quantity},
            "$pull": {"holds": {"orderId": order_id}},
        },
    )
    return result.modified_count == 1


def _hold_to_sale(product_id: ObjectId, order_id: str, quantity: int) -> bool:
    """Turn the order's reserved stock into sold stock (no-op when it holds none)."""
    result = _collection(Product).update_one(
        queries.product_held_for(product_id=product_id, order_id=order_id).filter,
        {
            "$inc": {"reserved": -quantity, "sold": quantity},
            "$pull": {"holds": {"orderId": order_id}},
        },
    )
    return result.modified_count == 1


def _mark_return(product_id: ObjectId, token: str) -> None:
    """Put a release's token on the product: the permission to return its order's units once."""
    _collection(Product).update_one(
        queries.product_by_id(product_id=product_id).filter, {"$push": {"returns": token}}
    )


def _drop_return(product_id: ObjectId, token: str) -> None:
    _collection(Product).update_one(
        queries.product_by_id(product_id=product_id).filter, {"$pull": {"returns": token}}
    )


def _return_marked(product_id: ObjectId, order_id: str, quantity: int, token: str) -> bool:
    """Give the order's units of the product back, consuming the release's token with them.

    Its hold when the commit had not sold it yet, else its sold units (never taking sold below
    zero). Only the update that takes the token moves stock, so however many calls repeat this,
    each unit comes back once; False when the token is gone (or sold is short).
    """
    products = _collection(Product)
    result = products.update_one(
        queries.product_returning_hold(
            product_id=product_id, order_id=order_id, token=token
        ).filter,
        {
            "$inc": {"quantity": quantity, "reserved": -quantity},
            "$pull": {"holds": {"orderId": order_id}, "returns": token},
        },
    )
    if result.modified_count == 1:
        return True
    result = products.update_one(
        queries.product_returning_sale(
            product_id=product_id, order_id=order_id, quantity=quantity, token=token
        ).filter,
        {"$inc": {"quantity": quantity, "sold": -quantity}, "$pull": {"returns": token}},
    )
    return result.modified_count == 1


# --- stock of one order -----------------------------------------------------------------------


def _unhold_all(order_id: str, lines: list[StockLine]) -> None:
    for line in lines:
        _unhold(line.product_id, order_id, line.quantity)


def _sell_held(order_id: str, lines: list[StockLine]) -> None:
    """Turn what the order holds into sales; lines already sold are left alone."""
    for line in lines:
        _hold_to_sale(line.product_id, order_id, line.quantity)


def _record_returned(reservation: Reservation, index: int) -> None:
    """Mark the reservation's line ``index`` as given back (a conditional update, once)."""
    _collection(Reservation).update_one(
        queries.reservation_line_not_returned(reservation_id=reservation.pk, index=index).filter,
        {"$set": {f"items.{index}.returned": True}},
    )
    reservation.items[index]["returned"] = True


def _release_committed(reservation: Reservation) -> bool:
    """Move the committed reservation to RELEASED and give its stock back; False when another
    call moved it first.

    A fresh token goes on each of its products before the move, and the move records it, so
    from then on only the token's consumer returns a line's units (``_return_marked``): repeats,
    concurrent finishers and the repair can all try, and nothing else can make a new token
    for this release. A loser takes its own tokens back.
    """
    token = f"{reservation.order_id}/{uuid.uuid4().hex}"
    lines = _lines_of(reservation)
    for line in lines:
        _mark_return(line.product_id, token)
    if not _move_state(
        reservation,
        from_states=(ReservationState.COMMITTED,),
        to_state=ReservationState.RELEASED,
        release_token=token,
    ):
        for line in lines:
            _drop_return(line.product_id, token)
        return False
    _finish_release(reservation)
    return True


def _finish_release(reservation: Reservation) -> None:
    """Give back whatever the released or expired reservation still has out; safe to repeat and
    to run concurrently.

    Uncommitted: its holds (a no-op for each already returned). Released out of COMMITTED: each
    line not yet marked returned, through the release's token, then the mark.
    """
    if not reservation.release_token:
        _unhold_all(reservation.order_id, _lines_of(reservation))
        return
    for index, item in enumerate(reservation.items):
        if item.get("returned"):
            continue
        product_id = ObjectId(item["productId"])
        returned = _return_marked(
            product_id, reservation.order_id, int(item["quantity"]), reservation.release_token
        )
        if not returned and _collection(Product).count_documents(
            queries.product_with_return(
                product_id=product_id, token=reservation.release_token
            ).filter,
            limit=1,
        ):
            # The token is still there: sold is short of the line. The audit reports it.
            logger.error(
                "sold stock to return not found",
                extra={"order_id": reservation.order_id, "product_id": item["productId"]},
            )
            continue
        _record_returned(reservation, index)


def _take_stock(reservation: Reservation, lines: list[StockLine]) -> list[dict[str, Any]]:
    """Hold every line for the pending reservation, in product id order; return its items.

    The items carry each product's title and price as read by its hold. When a line cannot be
    held, what was taken is given back, the pending reservation is deleted (so the order id can
    try again) and the reason is raised: ``UnknownProduct`` or ``InsufficientStock``.
    """
    items = []
    for taken, line in enumerate(lines):
        product = _hold(line.product_id, reservation.order_id, line.quantity)
        if product is None:
            _unhold_all(reservation.order_id, lines[:taken])
            _collection(Reservation).delete_one(
                queries.reservation_by_id(
                    reservation_id=reservation.pk, states=(ReservationState.PENDING,)
                ).filter
            )
            raise _refusal(reservation.order_id, short=line, lines=lines)
        items.append(
            {
                "productId": str(line.product_id),
                "title": product["title"],
                "unitPrice": str(_from_store(Product._meta.get_field("price"), product["price"])),
                "quantity": line.quantity,
            }
        )
    return items


def _refusal(
    order_id: str, *, short: StockLine, lines: list[StockLine]
) -> UnknownProduct | InsufficientStock:
    """Why ``short`` could not be held: a product of the order does not exist, or it is short.

    Its hold cannot tell the two apart, so this reads the order's products (only on this path).
    """
    read = queries.products_by_ids(product_ids=[line.product_id for line in lines])
    available = {
        document["_id"]: int(document["quantity"])
        for document in _collection(Product).find(read.filter, read.projection)
    }
    missing = {
        str(line.product_id): "No such product."
        for line in lines
        if line.product_id not in available
    }
    if missing:
        STOCK_RESERVATIONS_REFUSED.labels("unknown_product").inc()
        return UnknownProduct("Unknown product.", errors=missing)
    STOCK_RESERVATIONS_REFUSED.labels("insufficient_stock").inc()
    logger.info(
        "stock reservation refused",
        extra={"order_id": order_id, "product_id": str(short.product_id)},
    )
    return InsufficientStock(
        errors={
            str(short.product_id): (
                f"Only {available[short.product_id]} available, {short.quantity} requested."
            )
        }
    )


# --- reservation records ----------------------------------------------------------------------


def _reservation_of(order_id: str) -> Reservation | None:
    return find_one(Reservation, queries.reservation_of_order(order_id=order_id).filter)


def _lines_of(reservation: Reservation) -> list[StockLine]:
    lines = [
        StockLine(ObjectId(item["productId"]), int(item["quantity"])) for item in reservation.items
    ]
    return sorted(lines, key=lambda line: line.product_id)


def _record_pending(
    order_id: str, lines: list[StockLine], *, expires_at: datetime
) -> Reservation | None:
    """Insert the order's reservation as PENDING, before any stock moves.

    None when the order id already has a reservation: the unique index decides, so concurrent
    requests for one order id make one record. Titles and prices are filled in by the move out
    of PENDING, from the holds that read them.
    """
    reservation = Reservation(
        order_id=order_id,
        state=ReservationState.PENDING,
        items=[
            {
                "productId": str(line.product_id),
                "title": None,
                "unitPrice": None,
                "quantity": line.quantity,
            }
            for line in lines
        ],
        expires_at=expires_at,
    )
    return reservation if insert(reservation) else None


def _move_state(
    reservation: Reservation,
    *,
    from_states: tuple[str, ...],
    to_state: str,
    items: list[dict[str, Any]] | None = None,
    release_token: str | None = None,
) -> bool:
    """Conditionally move the reservation's state (and set its items); False when someone else
    moved it first.

    Written with pymongo, not ``QuerySet.update``: the ORM wraps the two conditions in ``$and``,
    which SecantusDB (the dev/test/bench store) cannot answer from the ``_id`` index, so it
    scanned every reservation (70-100 ms at 5,000, growing with every order). The flat filter
    is the same query to MongoDB.
    """
    changes: dict[str, Any] = {"state": to_state, "updated_at": timezone.now()}
    if items is not None:
        changes["items"] = items
    if release_token is not None:
        changes["release_token"] = release_token
    moved = _collection(Reservation).update_one(
        queries.reservation_by_id(reservation_id=reservation.pk, states=from_states).filter,
        {"$set": changes},
    )
    if moved.modified_count:
        for name, value in changes.items():
            setattr(reservation, name, value)
    return bool(moved.modified_count)


def _move_state_of(
    order_id: str, *, from_states: tuple[str, ...], to_state: str
) -> Reservation | None:
    """Conditionally move the order's reservation; the reservation as moved, or None when it is
    in none of ``from_states`` (or does not exist).

    Callers learn the state it left from ``from_states``, never from a returned pre-image.
    A conditional ``update_one`` then a read by the unique order id, both indexed, rather than
    one ``find_one_and_update``: SecantusDB (the dev/test/bench store) answers findAndModify by
    scanning the whole collection (45 ms at 5,000 reservations, growing with every order, even
    by ``_id``) and can return a stale pre-image under concurrency. On MongoDB the two cost one
    extra short round trip. Only ``state`` and ``updated_at`` can change after the move, and the
    returned reservation carries the state this call moved it to.
    """
    now = timezone.now()
    moved = _collection(Reservation).update_one(
        queries.reservation_of_order(order_id=order_id, states=from_states).filter,
        {"$set": {"state": to_state, "updated_at": now}},
    )
    if moved.modified_count != 1:
        return None
    reservation = _reservation_of(order_id)
    if reservation is None:
        return None
    reservation.state, reservation.updated_at = to_state, now
    return reservation


def _settled(order_id: str) -> Reservation:
    """The order's reservation once it is no longer pending (waits briefly for an in-flight one)."""
    deadline = time.monotonic() + IN_PROGRESS_WAIT_SECONDS
    while True:
        reservation = _reservation_of(order_id)
        if reservation is None:
            raise ReservationNotFound()
        if reservation.state != ReservationState.PENDING:
            return reservation
        if time.monotonic() >= deadline:
            raise ReservationInProgress()
        time.sleep(0.05)


def _existing(order_id: str) -> Reservation:
    """The settled reservation that made an insert for ``order_id`` fail as a duplicate.

    ``ReservationInProgress`` when it is still pending, or was refused and deleted meanwhile.
    """
    try:
        return _settled(order_id)
    except ReservationNotFound:
        raise ReservationInProgress() from None


def _to_millis(moment: datetime) -> datetime:
    """BSON dates keep milliseconds; trimming first makes the first answer match every repeat."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _merge(lines: list[StockLine]) -> list[StockLine]:
    totals: dict[ObjectId, int] = {}
    for line in lines:
        totals[line.product_id] = totals.get(line.product_id, 0) + line.quantity
    return [StockLine(pid, qty) for pid, qty in sorted(totals.items())]


def _answer_repeat(reservation: Reservation) -> Reservation:
    """A repeated reserve call answers as the first did, unless the stock was given back since:
    then saying "reserved" would be false, so it is refused."""
    if reservation.state in INACTIVE_STATES:
        raise ReservationNotActive()
    return reservation


# --- services ---------------------------------------------------------------------------------


def _take_stock_and_settle(
    reservation: Reservation, lines: list[StockLine], *, to_state: str
) -> None:
    """Hold every line for the pending reservation, then move it out of PENDING to ``to_state``
    with the items its holds read. When it was released or expired meanwhile, whoever did that
    owns the record: the holds are given back and ``ReservationNotActive`` is raised."""
    items = _take_stock(reservation, lines)
    if not _move_state(
        reservation, from_states=(ReservationState.PENDING,), to_state=to_state, items=items
    ):
        _unhold_all(reservation.order_id, lines)
        raise ReservationNotActive()


def reservation_create(
    *, order_id: str, lines: list[StockLine], ttl_seconds: int
) -> tuple[Reservation, bool]:
    """Reserve every line for the order or none; return the reservation and whether it is new.

    A repeat for an order id that already has a reservation changes nothing and
    returns that reservation. When a line is short, what was taken is given back,
    nothing is recorded and ``InsufficientStock`` names the short product.
    """
    lines = _merge(lines)
    reservation = _record_pending(
        order_id, lines, expires_at=_to_millis(timezone.now() + timedelta(seconds=ttl_seconds))
    )
    if reservation is None:
        return _answer_repeat(_existing(order_id)), False

    _take_stock_and_settle(reservation, lines, to_state=ReservationState.RESERVED)
    logger.info("stock reserved", extra={"order_id": order_id, "items": len(lines)})
    return reservation, True


def reservation_commit(*, order_id: str) -> Reservation:
    """Turn the order's reserved stock into sold stock; a repeat changes nothing."""
    for _ in range(MOVE_TRIES):
        reservation = _move_state_of(
            order_id, from_states=(ReservationState.RESERVED,), to_state=ReservationState.COMMITTED
        )
        if reservation is None:
            reservation = _settled(order_id)
            if reservation.state in INACTIVE_STATES:
                raise ReservationNotActive()
            if reservation.state == ReservationState.RESERVED:
                continue  # It was still pending a moment ago; commit it now.
        # Also finishes a commit that was interrupted between the state move and the stock moves.
        _sell_held(order_id, _lines_of(reservation))
        logger.info("stock committed", extra={"order_id": order_id})
        return reservation
    raise ReservationInProgress()


def reservation_release(*, order_id: str) -> Reservation:
    """Return the order's stock to available, reserved or already sold; a repeat changes nothing
    but finishes what an interrupted release or expiry left out.

    The reservation is moved out of PENDING or RESERVED (its holds come back) or else out of
    COMMITTED (its sold stock comes back, see ``_release_committed``): conditional moves, so
    the state it left is the one whose move matched. Releases of uncommitted orders, the usual
    kind, take the first.
    """
    for _ in range(MOVE_TRIES):
        reservation = _move_state_of(
            order_id,
            from_states=(ReservationState.PENDING, ReservationState.RESERVED),
            to_state=ReservationState.RELEASED,
        )
        if reservation is not None:
            _unhold_all(order_id, _lines_of(reservation))
            logger.info("stock released", extra={"order_id": order_id, "was_committed": False})
            return reservation
        reservation = _reservation_of(order_id)
        if reservation is None:
            raise ReservationNotFound()
        if reservation.state == ReservationState.COMMITTED:
            if not _release_committed(reservation):
                continue  # Moved meanwhile: look again.
            logger.info("stock released", extra={"order_id": order_id, "was_committed": True})
            return reservation
        if reservation.state in INACTIVE_STATES:
            _finish_release(reservation)
            return reservation
        # Made (again, after a refusal) between the tries: release that one.
    raise ReservationInProgress()


def reservations_expire(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Release reservations past their lifetime (and interrupted ones); return how many.

    Only pending and reserved ones expire; neither has sold anything, so expiry only gives back
    holds. At most ``limit`` per call (oldest first); the periodic job picks up the rest.
    """
    now = now or timezone.now()
    due = [
        model_from_document(Reservation, document)
        for sweep in (
            queries.reservations_past_lifetime(now=now),
            queries.reservations_interrupted(created_before=now - PENDING_GRACE),
        )
        for document in _collection(Reservation).find(sweep.filter, sort=sweep.sort, limit=limit)
    ]
    expired = 0
    for reservation in due:
        if not _move_state(
            reservation,
            from_states=(ReservationState.RESERVED, ReservationState.PENDING),
            to_state=ReservationState.EXPIRED,
        ):
            continue
        _unhold_all(reservation.order_id, _lines_of(reservation))
        expired += 1
        logger.info("stock reservation expired", extra={"order_id": reservation.order_id})
    return expired


def product_quantity_commit(*, product_id: ObjectId, order_id: str, quantity: int) -> Reservation:
    """The old single-product commit: sell ``quantity`` now if that much is available.

    Recorded as a reservation for the order that goes from PENDING straight to COMMITTED
    through the same steps as a reserve and a commit (hold, state move, hold to sale), so an
    interruption leaves what those leave: a pending reservation the sweep undoes, or a committed
    one whose hold a repeat turns into a sale (or a release gives back). A repeat changes
    nothing and a later release returns the stock. When the order already reserved the product
    through ``reservation_create``, this commits that reservation.
    """
    lines = [StockLine(product_id, quantity)]
    reservation = _record_pending(order_id, lines, expires_at=_to_millis(timezone.now()))
    if reservation is None:
        existing = _existing(order_id)
        if str(product_id) not in {item["productId"] for item in existing.items}:
            raise OrderIdReused()
        if existing.state != ReservationState.COMMITTED:
            return reservation_commit(order_id=order_id)
        _sell_held(order_id, _lines_of(existing))  # Finishes an interrupted one; else no-op.
        return existing

    _take_stock_and_settle(reservation, lines, to_state=ReservationState.COMMITTED)
    _sell_held(order_id, lines)
    logger.info("stock sold", extra={"order_id": order_id, "product_id": str(product_id)})
    return reservation
