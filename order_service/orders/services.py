"""Writes on orders: creation (with the stock reservation), status transitions, cancellation
and expiry. Every status change is a guarded update that also appends a history row and an
outbox event in the same transaction. The orders returned hold their items (``Order.lines``),
read at most once, so the caller renders them without another query.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from ecommerce_common.db import db_values, insert_together
from orders.errors import IllegalTransition, LineQuantityLimit, TooManyOpenOrders, TotalMismatch
from orders.metrics import order_transition_record
from orders.models import Order, OrderItem, StatusHistory
from orders.outbox import outbox_event_added, outbox_event_new
from orders.reservations import ReservedLine, reservation_create, reservation_release_quietly
from orders.selectors import order_locked
from orders.status import (
    EVENT_FOR_STATUS,
    EVENT_TARGETS,
    INITIAL_STATUS,
    REFUND_ON,
    OrderStatus,
    can_transition,
)
from payments.models import PaymentStatus
from payments.reconcile import payment_reconcile
from payments.refunds import payment_refund_schedule

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")


def reservation_ttl_seconds() -> int:
    return settings.ORDER_PAYMENT_WINDOW_SECONDS + settings.ORDER_RESERVATION_GRACE_SECONDS


def _money(value: Decimal) -> float:
    return float(value.quantize(CENT))


def order_event_data(*, order: Order, previous_status: str | None, reason: str) -> dict[str, Any]:
    return {
        "userId": order.user_id,
        "status": order.status,
        "previousStatus": previous_status,
        "reason": reason,
        "totalAmount": _money(order.total_amount),
        "currency": order.currency,
        "items": [
            {
                "productId": line.product_id,
                "title": line.title,
                "unitPrice": _money(line.unit_price),
                "quantity": line.quantity,
            }
            for line in order.lines
        ],
    }


def order_create(
    *,
    user_id: str,
    items: list[tuple[str, int]],
    claimed_total: Decimal | None = None,
    on_stored: Callable[[Order], None] | None = None,
) -> Order:
    """Reserve the stock, then store the order in ``payment_pending``.

    The order id is generated first so the reservation is made under it (and a retried reserve
    call is deduplicated by product_service). Prices come from the reservation's answer; a
    ``claimed_total`` (the old body's ``totalAmount``) is only compared, never used.
    ``on_stored`` runs inside the storing transaction (the Idempotency-Key record). If the order
    cannot be stored, the reservation is released.
    """
    items = order_lines_merge(items=items)
    _line_quantity_check(items=items)
    order_id = uuid.uuid4()
    reserved = reservation_create(
        order_id=str(order_id), items=items, ttl_seconds=reservation_ttl_seconds()
    )
    try:
        total = sum((line.unit_price * line.quantity for line in reserved), Decimal("0")).quantize(
            CENT
        )
        if claimed_total is not None and claimed_total.quantize(CENT) != total:
            raise TotalMismatch(
                errors={
                    "totalAmount": f"The order's total is {total}; it was given as {claimed_total}."
                }
            )
        with transaction.atomic():
            _open_orders_check(user_id=user_id)
            order = _order_store(order_id=order_id, user_id=user_id, total=total, reserved=reserved)
            if on_stored is not None:
                on_stored(order)
    except BaseException:
        reservation_release_quietly(order_id=str(order_id))
        raise
    logger.info("order created", extra={"order_id": str(order_id), "user_id": user_id})
    return order


def order_lines_merge(*, items: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """One line per product, in the order first given: the same product on several lines is
    one line of their summed quantity."""
    merged: dict[str, int] = {}
    for product_id, quantity in items:
        merged[product_id] = merged.get(product_id, 0) + quantity
    return list(merged.items())


def _line_quantity_check(*, items: list[tuple[str, int]]) -> None:
    """At most ``ORDER_MAX_QUANTITY_PER_LINE`` units of a product per order (409), so that with
    the open-orders cap one account cannot hold the catalogue's stock unpaid."""
    cap = settings.ORDER_MAX_QUANTITY_PER_LINE
    over = {product_id: f"At most {cap} per order." for product_id, qty in items if qty > cap}
    if over:
        raise LineQuantityLimit(errors={"items": over})


def _open_orders_check(*, user_id: str) -> None:
    """Refuse a new order while the user has ``ORDER_MAX_OPEN_PER_USER`` orders awaiting payment
    (409; the caller releases the reservation just made).

    Runs in the storing transaction; on PostgreSQL the count waits for a transaction-level
    advisory lock on the user, so concurrent orders count one after the other and each sees
    the ones stored before it. (Counted after reserving, not before as well: one query less on
    every order; a refused order's stock goes back at once.)
    """
    limit = settings.ORDER_MAX_OPEN_PER_USER
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [user_id])
        cursor.execute(
            _OPEN_ORDERS_SQL,
            db_values(
                Order, user_id=user_id, status=INITIAL_STATUS, payment_deadline=timezone.now()
            ),
        )
        (open_orders,) = cursor.fetchone()
    if open_orders >= limit:
        raise TooManyOpenOrders(errors={"openOrders": f"At most {limit} awaiting payment."})


# A plain statement: the ORM compiled its ``count()`` on every new order.
_OPEN_ORDERS_SQL = """
    SELECT COUNT(*) FROM orders_order
    WHERE user_id = %s AND status = %s AND payment_deadline > %s
"""


def _order_store(
    *, order_id: UUID, user_id: str, total: Decimal, reserved: list[ReservedLine]
) -> Order:
    order = Order(
        id=order_id,
        user_id=user_id,
        status=INITIAL_STATUS,
        total_amount=total,
        payment_deadline=timezone.now() + timedelta(seconds=settings.ORDER_PAYMENT_WINDOW_SECONDS),
    )
    # The lines as created serve the event and the response: no query reads them back.
    order.lines = [
        OrderItem(
            order=order,
            product_id=line.product_id,
            title=line.title,
            unit_price=line.unit_price,
            quantity=line.quantity,
        )
        for line in reserved
    ]
    _transition_record(
        order=order, source="", reason="order created", new_rows=[order, *order.lines]
    )
    return order


def _transition_record(
    *,
    order: Order,
    source: str,
    reason: str,
    event_id: str | None = None,
    new_rows: Sequence[Model] = (),
) -> None:
    """What every status change writes with it, in its transaction: the outbox event reporting
    it, the history row that names that event, and the transition counter (counted on commit).
    The rows are stored in one statement, after ``new_rows`` (a new order and its lines, when
    the change is the order's creation)."""
    event = outbox_event_new(
        order=order,
        event_type=EVENT_FOR_STATUS[order.status],
        data=order_event_data(order=order, previous_status=source or None, reason=reason),
    )
    history = StatusHistory(
        order=order,
        from_status=source,
        to_status=order.status,
        reason=reason,
        event_id=event_id,
        published_event=event,
    )
    insert_together(*new_rows, event, history)
    outbox_event_added(event)
    order_transition_record(from_status=source, to_status=order.status)


# The status change's conditional UPDATE as a plain statement (twice per order; the ORM
# compiled it every time).
_STATUS_MOVE_SQL = (
    "UPDATE orders_order SET status = %s, updated_at = %s WHERE id = %s AND status = %s"
)


def order_status_apply(
    *, order: Order, to_status: str, reason: str = "", event_id: str | None = None
) -> Order:
    """Move a row-locked order to ``to_status`` (inside the caller's transaction).

    The UPDATE is conditional on the status read, so even without the row lock two concurrent
    transitions cannot both win. Writes the history row and the outbox event; schedules the
    refund when a paid order ends cancelled or out of stock.
    """
    source = order.status
    if not can_transition(source, to_status):
        raise IllegalTransition(source=source, target=to_status)
    now = timezone.now()
    params = db_values(Order, status=to_status, updated_at=now, pk=order.pk)
    with connection.cursor() as cursor:
        cursor.execute(_STATUS_MOVE_SQL, [*params, source])
        updated = cursor.rowcount
    if updated != 1:
        current = Order.objects.filter(pk=order.pk).values_list("status", flat=True).first()
        raise IllegalTransition(source=current or source, target=to_status)
    order.status = to_status
    order.updated_at = now
    _transition_record(order=order, source=source, reason=reason, event_id=event_id)
    if to_status in REFUND_ON:
        payment_refund_schedule(order_id=order.pk)
    logger.info(
        "order status changed",
        extra={
            "order_id": str(order.pk),
            "from_status": source,
            "to_status": to_status,
            "event_id": event_id,
        },
    )
    return order


def order_transition(
    *,
    order_id: UUID,
    to_status: str,
    reason: str = "",
    event_id: str | None = None,
    expected: Collection[str] | None = None,
) -> tuple[Order, bool]:
    """Apply one transition of the state machine; return the order and whether it changed.

    With an ``event_id``, a repeat of an event already applied (same event, same target) is a
    no-op. ``expected`` narrows the statuses the caller accepts to start from.
    Raises ``Order.DoesNotExist`` and ``IllegalTransition``.
    """
    with transaction.atomic():
        order = order_locked(order_id=order_id)
        if event_id is not None and _event_applied(
            order=order, event_id=event_id, to_status=to_status
        ):
            return order, False
        if expected is not None and order.status not in expected:
            raise IllegalTransition(source=order.status, target=to_status)
        order_status_apply(order=order, to_status=to_status, reason=reason, event_id=event_id)
    return order, True


# A plain statement: the ORM compiled its ``exists()`` on every status update of the worker.
_EVENT_APPLIED_SQL = """
    SELECT 1 FROM orders_statushistory WHERE order_id = %s AND event_id = %s AND to_status = %s
    LIMIT 1
"""


def _event_applied(*, order: Order, event_id: str, to_status: str) -> bool:
    """Whether the event already moved the order to ``to_status`` (its history row names it)."""
    params = db_values(StatusHistory, order=order.pk, event_id=event_id, to_status=to_status)
    with connection.cursor() as cursor:
        cursor.execute(_EVENT_APPLIED_SQL, params)
        return cursor.fetchone() is not None


def order_apply_event(*, order_id: UUID, to_status: str, reason: str, event_id: str) -> Order:
    """The worker's status update: one transition per event id, and never to ``paid``."""
    if to_status not in EVENT_TARGETS:
        current = Order.objects.filter(pk=order_id).values_list("status", flat=True).first()
        if current is None:
            raise Order.DoesNotExist()
        raise IllegalTransition(source=current, target=to_status)
    order, _ = order_transition(
        order_id=order_id, to_status=to_status, reason=reason, event_id=event_id
    )
    return order


def _payment_settle(*, order_id: UUID) -> bool:
    """Before an order is closed, learn from the gateway what became of a payment whose outcome
    is unknown (``payments/reconcile.py``); False when that is still unknown."""
    return payment_reconcile(order_id=order_id)


def order_cancel(*, order_id: UUID, by_admin: bool = False) -> Order:
    """Cancel an order that is not yet confirmed; a paid one is refunded.

    A payment whose outcome is unknown is settled first, so a charge that went through is
    refunded; if the gateway cannot tell now, the order is cancelled anyway and the periodic
    reconciliation refunds the charge once it can.
    """
    _payment_settle(order_id=order_id)
    reason = "cancelled by an admin" if by_admin else "cancelled by the customer"
    order, _ = order_transition(order_id=order_id, to_status=OrderStatus.CANCELLED, reason=reason)
    return order


def order_expire(*, order_id: UUID) -> bool:
    """Expire one unpaid order; False when it is no longer payment_pending.

    A payment whose outcome is unknown is settled first: a charge that went through makes the
    order paid instead. While the gateway cannot tell, the order is left for the next sweep.
    """
    if not _payment_settle(order_id=order_id):
        return False
    try:
        order_transition(
            order_id=order_id,
            to_status=OrderStatus.EXPIRED,
            reason="payment window elapsed",
            expected={OrderStatus.PAYMENT_PENDING},
        )
    except (IllegalTransition, Order.DoesNotExist):
        return False
    return True


def orders_expire_overdue(*, now: datetime | None = None, limit: int = 500) -> int:
    """Expire unpaid orders past their payment window; return how many expired.

    Orders with a payment attempt in flight are left alone until the attempt goes stale: the
    attempt decides their fate.
    """
    now = now or timezone.now()
    in_flight_since = now - timedelta(seconds=settings.PAYMENT_ATTEMPT_STALE_SECONDS)
    overdue = (
        Order.objects.filter(status=OrderStatus.PAYMENT_PENDING, payment_deadline__lte=now)
        .exclude(payment__status=PaymentStatus.PROCESSING, payment__updated_at__gt=in_flight_since)
        .order_by("payment_deadline")
        .values_list("id", flat=True)[:limit]
    )
    return sum(order_expire(order_id=order_id) for order_id in list(overdue))
