"""The transactional outbox: events are written with the change they report and published after.

The event row (``outbox_event_new``) is inserted in the transaction that changes the order,
already *claimed* (``publishing``, ``claimed_at``) by the request writing it, which schedules
the publish for after the commit (``outbox_event_added``): the request then sends the envelope
it holds in memory as a Celery task to integration_service's queue, with publisher confirms,
and marks the row ``sent``. Nothing is published inside a request's transaction.

Why claim at insert: until the commit only the writing request can see the row, so claiming it
in the INSERT costs nothing, and no sweep can publish it meanwhile; no second transaction
(``SELECT … FOR UPDATE SKIP LOCKED``, publish, ``UPDATE``, ``COMMIT``) holds a row lock across the
broker's confirm. The right-after-commit path is the publish plus one statement.

That statement, the ``sent`` mark, is the same on every store; on PostgreSQL it also commits
with ``synchronous_commit`` off: ``set_config(..., true)`` in its ``FROM`` applies to the
statement's own transaction only, and its commit does not wait for the WAL flush (SQLite, the
embedded run's store, has no such setting and gets the plain ``UPDATE``). Only a PostgreSQL crash can lose the mark, which leaves the row ``publishing``: the
sweep publishes the event again after the lease, a duplicate after a crash, which the worker
drops by ``eventId``. The transaction that creates the row still commits synchronously, so no
event is ever lost.

Only the events the worker acts on (``WORKER_EVENT_TYPES``) are published. The others
(``order.created``, ``order.confirmed``, ``order.out_of_stock``) are written ``not_routed``:
kept in the outbox for audit and a later subscriber, never claimed, published or swept, so they
cost one INSERT in the transaction that makes them and nothing after (docs/ARCHITECTURE.md §6).

When the publish fails (broker down), the row goes back to ``pending`` with the error. A row
still ``publishing`` ``OUTBOX_CLAIM_LEASE_SECONDS`` after its claim belongs to a request that
died between commit and publish (or could not write the mark). The lease is far longer than a
publish may take (broker timeouts of a few seconds) and than this service's transactions (no
network calls inside), so a live request is never overtaken: with the broker up or down, each
event is published once in normal operation.

The sweep (``outbox_publish_pending``, every 5 s) locks the due rows (``pending``, or
``publishing`` past the lease) with ``SKIP LOCKED``, so two sweeps never take the same row,
publishes them oldest first, marks each sent in the same transaction, and stops at the first
failure. A row the sweep is working on stays ``pending`` to everyone else until it is sent.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from ecommerce_common.contracts import WORKER_EVENT_TYPES, make_envelope
from ecommerce_common.db import db_values
from ecommerce_common.events import EXCHANGE, ORDER_EVENT_TASK, QUEUE
from ecommerce_common.tracing import TRACE_CONTEXT_KEY, trace_context_attached
from orders.models import Order, OutboxEvent

logger = logging.getLogger(__name__)

State = OutboxEvent.State

# One autocommit statement. On PostgreSQL the subquery turns synchronous commit off for its
# transaction only; other stores have no such setting and run the plain UPDATE.
MARK_SENT_SQL = """
    UPDATE orders_outboxevent
    SET state = %s, sent_at = %s, attempts = attempts + 1, last_error = ''
    {no_flush_wait}
    WHERE id = %s AND state = %s
"""
NO_FLUSH_WAIT = {
    "postgresql": "FROM (SELECT set_config('synchronous_commit', 'off', true)) AS no_flush_wait"
}


def outbox_event_new(*, order: Order, event_type: str, data: dict[str, Any]) -> OutboxEvent:
    """The row reporting a change, not stored yet: the caller inserts it in the change's
    transaction (with the change's other rows), then calls ``outbox_event_added``."""
    envelope = make_envelope(event_type=event_type, order_id=str(order.id), data=data)
    routed = event_type in WORKER_EVENT_TYPES
    return OutboxEvent(
        id=UUID(envelope["eventId"]),
        order=order,
        event_type=event_type,
        envelope=envelope,
        state=State.PUBLISHING if routed else State.NOT_ROUTED,
        claimed_at=timezone.now() if routed else None,
    )


def outbox_event_added(event: OutboxEvent) -> None:
    """Schedule the publish of a routed event for after the commit of the transaction that
    inserted it."""
    if event.state == State.PUBLISHING:
        transaction.on_commit(lambda: outbox_publish_after_commit(event=event))


def publish_envelope(envelope: dict[str, Any]) -> None:
    """Send one event to integration_service; returns once the broker has confirmed it."""
    from order_service.celery import app

    # In the trace of the change the event reports, even when the sweep sends it later.
    with trace_context_attached(envelope.get(TRACE_CONTEXT_KEY)):
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
            # What monitors show of the arguments; given, Celery does not build a safe repr
            # of the whole envelope on every publish.
            argsrepr=f"[<{envelope['type']} envelope>]",
            kwargsrepr="{}",
        )


def _mark_sent(event: OutboxEvent) -> None:
    sql = MARK_SENT_SQL.format(no_flush_wait=NO_FLUSH_WAIT.get(connection.vendor, ""))
    params = db_values(OutboxEvent, state=State.SENT, sent_at=timezone.now(), pk=event.id)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, State.PUBLISHING])


def _release(event: OutboxEvent, *, error: str) -> None:
    """Give a claimed row to the sweep after a failed publish."""
    OutboxEvent.objects.filter(pk=event.pk, state=State.PUBLISHING).update(
        state=State.PENDING, attempts=F("attempts") + 1, last_error=error[:2000]
    )


def _log_published(event: OutboxEvent) -> None:
    logger.info(
        "outbox event published",
        extra={
            "event_id": str(event.id),
            "order_id": str(event.order_id),
            "event_type": event.event_type,
        },
    )


def _log_failed(event: OutboxEvent) -> None:
    logger.warning(
        "outbox publish failed; left pending",
        extra={"event_id": str(event.id), "order_id": str(event.order_id)},
    )


def outbox_publish_pending(*, limit: int | None = None) -> int:
    """The sweep: publish the rows waiting for it, oldest first; return how many were sent.

    Due rows are pending ones and those whose claim outlived the lease. Stops at the first
    failure: when the broker is down, the rest would fail the same way.
    """
    limit = limit or settings.OUTBOX_RELAY_BATCH_SIZE
    lease_start = timezone.now() - timedelta(seconds=settings.OUTBOX_CLAIM_LEASE_SECONDS)
    published = 0
    with transaction.atomic():
        due = OutboxEvent.objects.select_for_update(skip_locked=True).filter(
            Q(state=State.PENDING) | Q(state=State.PUBLISHING, claimed_at__lt=lease_start)
        )
        for event in due.order_by("created_at")[:limit]:
            if event.state == State.PUBLISHING:
                logger.warning(
                    "outbox claim expired; publishing again",
                    extra={"event_id": str(event.id), "order_id": str(event.order_id)},
                )
            event.attempts += 1
            try:
                publish_envelope(event.envelope)
            except Exception as exc:
                event.state = State.PENDING
                event.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
                event.save(update_fields=["state", "attempts", "last_error"])
                _log_failed(event)
                break
            event.state = State.SENT
            event.sent_at = timezone.now()
            event.last_error = ""
            event.save(update_fields=["state", "attempts", "sent_at", "last_error"])
            published += 1
            _log_published(event)
    return published


def outbox_publish_after_commit(*, event: OutboxEvent) -> None:
    """The right-after-commit relay: publish the event this request claimed, then mark it sent
    (or give it to the sweep). Never lets a broker or database error reach the caller."""
    try:
        try:
            publish_envelope(event.envelope)
        except Exception as exc:
            _log_failed(event)
            _release(event, error=f"{exc.__class__.__name__}: {exc}")
            return
        _mark_sent(event)
        _log_published(event)
    except Exception:
        logger.exception("outbox relay after commit failed; the sweep will publish")
