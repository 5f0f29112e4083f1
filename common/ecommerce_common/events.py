"""The order-event contract between order_service (publisher) and integration_service (consumer).

Both sides declare the queue from here, so its arguments (the dead-letter
exchange) always match; a mismatch would make RabbitMQ refuse the declaration.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from ecommerce_common.tracing import TRACE_CONTEXT_KEY, current_trace_context

ORDER_EVENT_TASK = "integration.order_event"
QUEUE = "integration"
EXCHANGE = "integration"
DEAD_LETTER_EXCHANGE = "integration.dlx"
DEAD_LETTER_QUEUE = "integration.dead"
ENVELOPE_VERSION = 1

ORDER_PAID = "order.paid"
ORDER_PAYMENT_FAILED = "order.payment_failed"
ORDER_CANCELLED = "order.cancelled"
ORDER_EXPIRED = "order.expired"
ORDER_CONFIRMED = "order.confirmed"
ORDER_OUT_OF_STOCK = "order.out_of_stock"
ORDER_CREATED = "order.created"

# Every order event type, in the order of the lifecycle.
ORDER_EVENT_TYPES = (
    ORDER_CREATED,
    ORDER_PAID,
    ORDER_PAYMENT_FAILED,
    ORDER_CONFIRMED,
    ORDER_OUT_OF_STOCK,
    ORDER_CANCELLED,
    ORDER_EXPIRED,
)
# The events integration_service acts on: only these are published to its queue. The others
# (order.created, order.confirmed, order.out_of_stock) stay in order_service's outbox and status
# history, marked not routed, for a subscriber that may come later (docs/ARCHITECTURE.md §6).
WORKER_EVENT_TYPES = frozenset({ORDER_PAID, ORDER_PAYMENT_FAILED, ORDER_CANCELLED, ORDER_EXPIRED})


def make_envelope(
    *,
    event_type: str,
    order_id: str,
    data: dict[str, Any],
    event_id: str | None = None,
    occurred_at: datetime | None = None,
) -> dict[str, Any]:
    """The JSON envelope every order event travels in, with the W3C trace context of the
    change it reports when tracing is on (``ecommerce_common.tracing``)."""
    envelope = {
        "eventId": event_id or str(uuid.uuid4()),
        "type": event_type,
        "orderId": order_id,
        "occurredAt": (occurred_at or datetime.now(UTC)).isoformat(),
        "version": ENVELOPE_VERSION,
        "data": data,
    }
    trace_context = current_trace_context()
    if trace_context:
        envelope[TRACE_CONTEXT_KEY] = trace_context
    return envelope


def integration_queues() -> list:
    """kombu declarations: the durable work queue (dead-lettering to the DLX) and the DLQ."""
    from kombu import Exchange, Queue

    exchange = Exchange(EXCHANGE, type="direct", durable=True)
    dead_letter_exchange = Exchange(DEAD_LETTER_EXCHANGE, type="direct", durable=True)
    return [
        Queue(
            QUEUE,
            exchange,
            routing_key=QUEUE,
            durable=True,
            queue_arguments={
                "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
                "x-dead-letter-routing-key": DEAD_LETTER_QUEUE,
            },
        ),
        Queue(DEAD_LETTER_QUEUE, dead_letter_exchange, routing_key=DEAD_LETTER_QUEUE, durable=True),
    ]
