"""The order state machine (docs/ARCHITECTURE.md §5) as order_service stores it: the statuses
with their labels, and the event each transition publishes. The statuses' values, the allowed
transitions and what an event may set are the contract's (``ecommerce_common.contracts``),
which the worker's tests answer by too.
"""

from __future__ import annotations

from django.db import models

from ecommerce_common import contracts
from ecommerce_common.contracts import EVENT_TARGETS, can_transition  # noqa: F401 - re-exported

WireStatus = contracts.OrderStatus


class OrderStatus(models.TextChoices):
    # The values are the contract's (ecommerce_common.contracts); the labels are the old
    # system's texts, which its clients display.
    PAYMENT_PENDING = WireStatus.PAYMENT_PENDING.value, "payment pending"
    PAID = WireStatus.PAID.value, "payment successful"
    PAYMENT_FAILED = WireStatus.PAYMENT_FAILED.value, "payment failed"
    CONFIRMED = WireStatus.CONFIRMED.value, "order confirmed"
    OUT_OF_STOCK = WireStatus.OUT_OF_STOCK.value, "order out of stock"
    CANCELLED = WireStatus.CANCELLED.value, "order cancelled"
    EXPIRED = WireStatus.EXPIRED.value, "order expired"


INITIAL_STATUS = OrderStatus.PAYMENT_PENDING

TRANSITIONS = contracts.ORDER_TRANSITIONS

# Reaching one of these with an approved payment means the money goes back.
REFUND_ON = frozenset({OrderStatus.CANCELLED, OrderStatus.OUT_OF_STOCK})

EVENT_FOR_STATUS: dict[str, str] = {
    OrderStatus.PAYMENT_PENDING: contracts.ORDER_CREATED,
    OrderStatus.PAID: contracts.ORDER_PAID,
    OrderStatus.PAYMENT_FAILED: contracts.ORDER_PAYMENT_FAILED,
    OrderStatus.CONFIRMED: contracts.ORDER_CONFIRMED,
    OrderStatus.OUT_OF_STOCK: contracts.ORDER_OUT_OF_STOCK,
    OrderStatus.CANCELLED: contracts.ORDER_CANCELLED,
    OrderStatus.EXPIRED: contracts.ORDER_EXPIRED,
}
