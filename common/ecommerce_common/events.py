"""The transport of order events from order_service (publisher) to integration_service
(consumer): the task name, the queue and the exchanges. What an event says (its types and
envelope) is ``ecommerce_common.contracts``.

Both sides declare the queue from here, so its arguments (the dead-letter
exchange) always match; a mismatch would make RabbitMQ refuse the declaration.
"""

from __future__ import annotations

ORDER_EVENT_TASK = "integration.order_event"
QUEUE = "integration"
EXCHANGE = "integration"
DEAD_LETTER_EXCHANGE = "integration.dlx"
DEAD_LETTER_QUEUE = "integration.dead"


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
