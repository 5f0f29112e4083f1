"""The transactional outbox: events are written with the change they report and published later.

``outbox_event_add`` must run inside the transaction that changes the order; it schedules a
publish of that row for after the commit. ``outbox_publish_pending`` is the relay (and the
sweep): it locks pending rows (skipping rows another relay holds), sends each as a Celery task
to integration_service's queue with publisher confirms, and marks it sent only once the broker
has confirmed. A broker outage leaves the rows pending for the next sweep; nothing is published
inside a request's transaction.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ecommerce_common.events import EXCHANGE, ORDER_EVENT_TASK, QUEUE, make_envelope
from orders.models import Order, OutboxEvent

logger = logging.getLogger(__name__)


def outbox_event_add(*, order: Order, event_type: str, data: dict[str, Any]) -> OutboxEvent:
    envelope = make_envelope(event_type=event_type, order_id=str(order.id), data=data)
    event = OutboxEvent.objects.create(
        id=UUID(envelope["eventId"]), order=order, event_type=event_type, envelope=envelope
    )
    transaction.on_commit(lambda: outbox_publish_after_commit(event_ids=[event.id]))
    return event


def publish_envelope(envelope: dict[str, Any]) -> None:
    """Send one event to integration_service; returns once the broker has confirmed it."""
    from order_service.celery import app

    app.send_task(
        ORDER_EVENT_TASK,
        args=[envelope],
        queue=QUEUE,
        exchange=EXCHANGE,
        routing_key=QUEUE,
        task_id=envelope["eventId"],
        serializer="json",
        # A broker that accepts the connection but never confirms must not hold the relay.
        timeout=settings.OUTBOX_PUBLISH_TIMEOUT_SECONDS,
        confirm_timeout=settings.OUTBOX_PUBLISH_TIMEOUT_SECONDS,
        headers={"event_type": envelope["type"], "order_id": envelope["orderId"]},
    )


def outbox_publish_pending(*, event_ids: list[UUID] | None = None, limit: int | None = None) -> int:
    """Publish pending outbox rows (oldest first); return how many were sent.

    Stops at the first failure: when the broker is down, the rest would fail the same way.
    """
    limit = limit or settings.OUTBOX_RELAY_BATCH_SIZE
    published = 0
    with transaction.atomic():
        pending = OutboxEvent.objects.select_for_update(skip_locked=True).filter(
            state=OutboxEvent.State.PENDING
        )
        if event_ids is not None:
            pending = pending.filter(id__in=event_ids)
        for event in pending.order_by("created_at")[:limit]:
            event.attempts += 1
            try:
                publish_envelope(event.envelope)
            except Exception as exc:
                event.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
                event.save(update_fields=["attempts", "last_error"])
                logger.warning(
                    "outbox publish failed; left pending",
                    extra={"event_id": str(event.id), "order_id": str(event.order_id)},
                )
                break
            event.state = OutboxEvent.State.SENT
            event.sent_at = timezone.now()
            event.last_error = ""
            event.save(update_fields=["attempts", "state", "sent_at", "last_error"])
            published += 1
            logger.info(
                "outbox event published",
                extra={
                    "event_id": str(event.id),
                    "order_id": str(event.order_id),
                    "event_type": event.event_type,
                },
            )
    return published


def outbox_publish_after_commit(*, event_ids: list[UUID]) -> None:
    """The right-after-commit relay: never lets a broker or database error reach the caller."""
    try:
        outbox_publish_pending(event_ids=event_ids)
    except Exception:
        logger.exception("outbox relay after commit failed; the sweep will publish")
