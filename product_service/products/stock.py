"""Stock: reserve, commit and release per order, expire abandoned reservations.

Every change to a product's stock is one conditional atomic update of its
document, so available stock can never go below zero and
``quantity + reserved + sold`` stays constant (only a restock changes it). Each
update also moves the order's entry between two ledgers on the product:
``holds`` (reserved for an order) and ``sales`` (sold to an order). The update
matches only when the ledger says the step has not been done, so every
per-product step is idempotent per order id and an interrupted operation can be
finished by running it again.

The ``Reservation`` document is the per-order record and the point where
concurrent commit / release / expiry of one order are serialised: each first
moves the reservation's state with a conditional update, then moves stock.
A multi-item reservation takes its items in a fixed order (by product id) and
undoes what it took when one item is short, so it is all or nothing without
needing multi-document transactions (a standalone mongod has none).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from bson import ObjectId
from django.conf import settings
from django.db import IntegrityError, connections
from django.utils import timezone
from pymongo.collection import Collection

from products.constants import INACTIVE_STATES, ReservationState
from products.errors import (
    InsufficientStock,
    OrderIdReused,
    ReservationInProgress,
    ReservationNotActive,
    ReservationNotFound,
    UnknownProduct,
)
from products.models import Product, Reservation

logger = logging.getLogger(__name__)

# A reservation still pending after this long was interrupted; the sweep undoes it.
PENDING_GRACE = timedelta(minutes=2)
# How long a request for an order id whose reservation is pending waits for it to settle.
IN_PROGRESS_WAIT_SECONDS = 2.0


@dataclass(frozen=True)
class StockLine:
    product_id: ObjectId
    quantity: int


def _products() -> Collection:
    return connections[Product.objects.db].get_collection(Product._meta.db_table)


# --- per-product steps: one conditional update each, idempotent per order id ----------------


def _hold(product_id: ObjectId, order_id: str, quantity: int) -> bool:
    """Move ``quantity`` from available to reserved for the order, if that much is available."""
    result = _products().update_one(
        {"_id": product_id, "quantity": {"$gte": quantity}, "holds.orderId": {"$ne": order_id}},
        {
            "$inc": {"quantity": -quantity, "reserved": quantity},
            "$push": {"holds": {"orderId": order_id, "quantity": quantity}},
        },
    )
    return result.modified_count == 1


def _unhold(product_id: ObjectId, order_id: str, quantity: int) -> bool:
    """Return the order's reserved stock to available (no-op when it holds none)."""
    result = _products().update_one(
        {"_id": product_id, "holds.orderId": order_id},
        {
            "$inc": {"quantity": quantity, "reserved": -quantity},
            "$pull": {"holds": {"orderId": order_id}},
        },
    )
    return result.modified_count == 1


def _hold_to_sale(product_id: ObjectId, order_id: str, quantity: int) -> bool:
    """Turn the order's reserved stock into sold stock (no-op when it holds none)."""
    result = _products().update_one(
        {"_id": product_id, "holds.orderId": order_id},
        {
            "$inc": {"reserved": -quantity, "sold": quantity},
            "$pull": {"holds": {"orderId": order_id}},
            "$push": {"sales": {"orderId": order_id, "quantity": quantity, "at": timezone.now()}},
        },
    )
    return result.modified_count == 1


def _sell(product_id: ObjectId, order_id: str, quantity: int) -> bool:
    """Move ``quantity`` from available straight to sold, if that much is available."""
    result = _products().update_one(
        {"_id": product_id, "quantity": {"$gte": quantity}, "sales.orderId": {"$ne": order_id}},
        {
            "$inc": {"quantity": -quantity, "sold": quantity},
            "$push": {"sales": {"orderId": order_id, "quantity": quantity, "at": timezone.now()}},
        },
    )
    return result.modified_count == 1


def _unsell(product_id: ObjectId, order_id: str, quantity: int) -> bool:
    """Return the order's sold stock to available (no-op when it bought none)."""
    result = _products().update_one(
        {"_id": product_id, "sales.orderId": order_id},
        {
            "$inc": {"quantity": quantity, "sold": -quantity},
            "$pull": {"sales": {"orderId": order_id}},
        },
    )
    return result.modified_count == 1


def _return_to_available(product_id: ObjectId, order_id: str, quantity: int) -> None:
    # Whatever the order still holds or bought goes back; at most one of the two matches.
    if not _unhold(product_id, order_id, quantity):
        _unsell(product_id, order_id, quantity)


def _available(product_id: ObjectId) -> int:
    document = _products().find_one({"_id": product_id}, {"quantity": 1})
    return int(document["quantity"]) if document else 0


# --- reservation records ----------------------------------------------------------------------


def _lines_of(reservation: Reservation) -> list[StockLine]:
    lines = [
        StockLine(ObjectId(item["productId"]), int(item["quantity"])) for item in reservation.items
    ]
    return sorted(lines, key=lambda line: line.product_id)


def _move_state(reservation: Reservation, *, from_states: tuple[str, ...], to_state: str) -> bool:
    """Conditionally move the reservation's state; False when someone else moved it first."""
    now = timezone.now()
    moved = Reservation.objects.filter(pk=reservation.pk, state__in=from_states).update(
        state=to_state, updated_at=now
    )
    if moved:
        reservation.state = to_state
        reservation.updated_at = now
    return bool(moved)


def _settled(order_id: str) -> Reservation:
    """The order's reservation once it is no longer pending (waits briefly for an in-flight one)."""
    deadline = time.monotonic() + IN_PROGRESS_WAIT_SECONDS
    while True:
        reservation = Reservation.objects.filter(order_id=order_id).first()
        if reservation is None:
            raise ReservationNotFound()
        if reservation.state != ReservationState.PENDING:
            return reservation
        if time.monotonic() >= deadline:
            raise ReservationInProgress()
        time.sleep(0.05)


def _existing(order_id: str) -> Reservation | None:
    """The order's settled reservation, or None when it has none (or a refused one vanished)."""
    try:
        return _settled(order_id)
    except ReservationNotFound:
        return None


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


def reservation_create(
    *, order_id: str, lines: list[StockLine], ttl_seconds: int
) -> tuple[Reservation, bool]:
    """Reserve every line for the order or none; return the reservation and whether it is new.

    A repeat for an order id that already has a reservation changes nothing and
    returns that reservation. When a line is short, what was taken is given back,
    nothing is recorded and ``InsufficientStock`` names the short products.
    """
    existing = _existing(order_id)
    if existing is not None:
        return _answer_repeat(existing), False

    lines = _merge(lines)
    products = {p.pk: p for p in Product.objects.filter(pk__in=[line.product_id for line in lines])}
    missing = {
        str(line.product_id): "No such product."
        for line in lines
        if line.product_id not in products
    }
    if missing:
        raise UnknownProduct("Unknown product.", errors=missing)

    reservation = Reservation(
        order_id=order_id,
        state=ReservationState.PENDING,
        items=[
            {
                "productId": str(line.product_id),
                "title": products[line.product_id].title,
                "unitPrice": str(products[line.product_id].price),
                "quantity": line.quantity,
            }
            for line in lines
        ],
        expires_at=_to_millis(timezone.now() + timedelta(seconds=ttl_seconds)),
    )
    try:
        reservation.save(force_insert=True)
    except IntegrityError:
        # A concurrent request for the same order got there first: answer as it does.
        existing = _existing(order_id)
        if existing is None:
            raise ReservationInProgress() from None
        return _answer_repeat(existing), False

    taken: list[StockLine] = []
    shortage: StockLine | None = None
    for line in lines:
        if not _hold(line.product_id, order_id, line.quantity):
            shortage = line
            break
        taken.append(line)

    if shortage is None and _move_state(
        reservation, from_states=(ReservationState.PENDING,), to_state=ReservationState.RESERVED
    ):
        logger.info("stock reserved", extra={"order_id": order_id, "items": len(lines)})
        return reservation, True

    for line in taken:
        _unhold(line.product_id, order_id, line.quantity)
    if shortage is None:
        # Released or expired while it was being made: whoever did that owns the record.
        raise ReservationNotActive()
    Reservation.objects.filter(pk=reservation.pk, state=ReservationState.PENDING).delete()
    available = _available(shortage.product_id)
    logger.info(
        "stock reservation refused",
        extra={"order_id": order_id, "product_id": str(shortage.product_id)},
    )
    raise InsufficientStock(
        errors={
            str(shortage.product_id): f"Only {available} available, {shortage.quantity} requested."
        }
    )


def reservation_commit(*, order_id: str) -> Reservation:
    """Turn the order's reserved stock into sold stock; a repeat changes nothing."""
    reservation = _settled(order_id)
    if reservation.state in INACTIVE_STATES:
        raise ReservationNotActive()
    if reservation.state == ReservationState.RESERVED and not _move_state(
        reservation, from_states=(ReservationState.RESERVED,), to_state=ReservationState.COMMITTED
    ):
        # Committed, released or expired concurrently: answer from where it is now.
        return reservation_commit(order_id=order_id)
    # Also finishes a commit that was interrupted between the state change and the stock moves.
    for line in _lines_of(reservation):
        _hold_to_sale(line.product_id, order_id, line.quantity)
    logger.info("stock committed", extra={"order_id": order_id})
    return reservation


def reservation_release(*, order_id: str) -> Reservation:
    """Return the order's stock to available, reserved or already sold; a repeat changes nothing."""
    reservation = Reservation.objects.filter(order_id=order_id).first()
    if reservation is None:
        raise ReservationNotFound()
    if reservation.state in INACTIVE_STATES:
        return reservation
    if not _move_state(
        reservation,
        from_states=(
            ReservationState.PENDING,
            ReservationState.RESERVED,
            ReservationState.COMMITTED,
        ),
        to_state=ReservationState.RELEASED,
    ):
        return reservation_release(order_id=order_id)
    for line in _lines_of(reservation):
        _return_to_available(line.product_id, order_id, line.quantity)
    logger.info("stock released", extra={"order_id": order_id})
    return reservation


def reservations_expire(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Release reservations past their lifetime (and interrupted ones); return how many.

    At most ``limit`` per call (oldest first); the periodic job picks up the rest.
    """
    now = now or timezone.now()
    due = list(
        Reservation.objects.filter(state=ReservationState.RESERVED, expires_at__lte=now).order_by(
            "expires_at"
        )[:limit]
    ) + list(
        Reservation.objects.filter(
            state=ReservationState.PENDING, created_at__lte=now - PENDING_GRACE
        ).order_by("created_at")[:limit]
    )
    expired = 0
    for reservation in due:
        if not _move_state(
            reservation,
            from_states=(ReservationState.RESERVED, ReservationState.PENDING),
            to_state=ReservationState.EXPIRED,
        ):
            continue
        for line in _lines_of(reservation):
            _return_to_available(line.product_id, reservation.order_id, line.quantity)
        expired += 1
        logger.info("stock reservation expired", extra={"order_id": reservation.order_id})
    # A sale stays in the ledger only while a release of it is plausible (a cancellation racing
    # the commit); pruning keeps product documents small. A release after that returns nothing.
    cutoff = now - timedelta(hours=settings.STOCK_SALES_LEDGER_RETENTION_HOURS)
    _products().update_many(
        {"sales.at": {"$lt": cutoff}}, {"$pull": {"sales": {"at": {"$lt": cutoff}}}}
    )
    return expired


def product_quantity_commit(*, product_id: ObjectId, order_id: str, quantity: int) -> Reservation:
    """The old single-product commit: sell ``quantity`` now if that much is available.

    Recorded as a committed reservation for the order, so a repeat changes nothing
    and a later release returns the stock. When the order already reserved the
    product through ``reservation_create``, this commits that reservation.
    """
    existing = _existing(order_id)
    if existing is not None:
        if str(product_id) not in {item["productId"] for item in existing.items}:
            raise OrderIdReused()
        if existing.state == ReservationState.COMMITTED:
            return existing
        return reservation_commit(order_id=order_id)

    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        raise UnknownProduct(errors={str(product_id): "No such product."})
    reservation = Reservation(
        order_id=order_id,
        state=ReservationState.PENDING,
        items=[
            {
                "productId": str(product_id),
                "title": product.title,
                "unitPrice": str(product.price),
                "quantity": quantity,
            }
        ],
        expires_at=_to_millis(timezone.now()),
    )
    try:
        reservation.save(force_insert=True)
    except IntegrityError:
        if _existing(order_id) is None:
            raise ReservationInProgress() from None
        return product_quantity_commit(product_id=product_id, order_id=order_id, quantity=quantity)

    if not _sell(product_id, order_id, quantity):
        Reservation.objects.filter(pk=reservation.pk, state=ReservationState.PENDING).delete()
        available = _available(product_id)
        raise InsufficientStock(
            errors={str(product_id): f"Only {available} available, {quantity} requested."}
        )
    if not _move_state(
        reservation, from_states=(ReservationState.PENDING,), to_state=ReservationState.COMMITTED
    ):
        # Released while it was being made: the release owns the record and returns the stock.
        _unsell(product_id, order_id, quantity)
        raise ReservationNotActive()
    logger.info("stock sold", extra={"order_id": order_id, "product_id": str(product_id)})
    return reservation
