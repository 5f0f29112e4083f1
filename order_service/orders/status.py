"""The order state machine (docs/ARCHITECTURE.md §5): statuses, their labels, the allowed transitions
and the event each transition publishes. The one place that knows the lifecycle.
"""

from __future__ import annotations

from django.db import models

from ecommerce_common import events


class OrderStatus(models.TextChoices):
    # Labels are the old system's texts, which its clients display.
    PAYMENT_PENDING = "payment_pending", "payment pending"
    PAID = "paid", "payment successful"
    PAYMENT_FAILED = "payment_failed", "payment failed"
    CONFIRMED = "confirmed", "order confirmed"
    OUT_OF_STOCK = "out_of_stock", "order out of stock"
    CANCELLED = "cancelled", "order cancelled"
    EXPIRED = "expired", "order expired"


INITIAL_STATUS = OrderStatus.PAYMENT_PENDING

TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.PAYMENT_PENDING: frozenset(
        {OrderStatus.PAID, OrderStatus.PAYMENT_FAILED, OrderStatus.CANCELLED, OrderStatus.EXPIRED}
    ),
    OrderStatus.PAID: frozenset(
        {OrderStatus.CONFIRMED, OrderStatus.OUT_OF_STOCK, OrderStatus.CANCELLED}
    ),
    OrderStatus.PAYMENT_FAILED: frozenset(),
    OrderStatus.CONFIRMED: frozenset(),
    OrderStatus.OUT_OF_STOCK: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.EXPIRED: frozenset(),
}

# What integration_service may set through PUT /internal/orders/{id}/status: ``paid`` is reached
# only through the payment step, so an event can never mark an order paid without a charge.
EVENT_TARGETS = frozenset(
    {
        OrderStatus.CONFIRMED,
        OrderStatus.OUT_OF_STOCK,
        OrderStatus.CANCELLED,
        OrderStatus.EXPIRED,
        OrderStatus.PAYMENT_FAILED,
    }
)

# Reaching one of these with an approved payment means the money goes back.
REFUND_ON = frozenset({OrderStatus.CANCELLED, OrderStatus.OUT_OF_STOCK})

EVENT_FOR_STATUS: dict[str, str] = {
    OrderStatus.PAYMENT_PENDING: events.ORDER_CREATED,
    OrderStatus.PAID: events.ORDER_PAID,
    OrderStatus.PAYMENT_FAILED: events.ORDER_PAYMENT_FAILED,
    OrderStatus.CONFIRMED: events.ORDER_CONFIRMED,
    OrderStatus.OUT_OF_STOCK: events.ORDER_OUT_OF_STOCK,
    OrderStatus.CANCELLED: events.ORDER_CANCELLED,
    OrderStatus.EXPIRED: events.ORDER_EXPIRED,
}


def can_transition(source: str, target: str) -> bool:
    return target in TRANSITIONS.get(source, frozenset())
