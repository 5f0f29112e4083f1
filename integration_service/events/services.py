"""Processing order events exactly once in effect, and recording every one in the event log.

An event is taken in two steps. First its row is created (or found) and the
attempt counted, committed at once so even an attempt cut off by a crash shows;
an event already applied or ignored stops there as a duplicate. Then the handler runs while that row is locked (``SELECT ... FOR
UPDATE``), so two deliveries of one event never run side by side; the lock
dies with the database connection, so a killed worker never leaves it held.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from ecommerce_common.contracts import OrderEvent
from ecommerce_common.db import db_values, insert_parts
from events.handlers import PermanentError, TransientError, acts_on, order_event_handle
from events.models import FINAL_OUTCOMES, Outcome, ProcessedEvent

logger = logging.getLogger(__name__)

_MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True)
class ProcessingReport:
    outcome: Outcome
    result: str = ""
    error: str = ""
    attempts: int = 0


def _duplicate(record: ProcessedEvent, *, attempt_counted: bool = False) -> ProcessingReport:
    changes = {"duplicate_deliveries": F("duplicate_deliveries") + 1}
    if attempt_counted:
        # Counted as an attempt in step one, then found the event done: it was a duplicate.
        changes["attempts"] = F("attempts") - 1
    ProcessedEvent.objects.filter(pk=record.pk).update(**changes)
    return ProcessingReport(
        outcome=Outcome.SKIPPED_DUPLICATE,
        result=record.result,
        attempts=record.attempts - int(attempt_counted),
    )


def order_event_process(*, event: OrderEvent, final_attempt: bool) -> ProcessingReport:
    """Handle ``event`` unless it was already applied; record what happened.

    A transient failure leaves the event ``failed`` (to be retried) or, on the
    ``final_attempt``, ``dead``; a permanent or unexpected failure makes it ``dead``.
    """
    if not acts_on(event.event_type):
        return _ignored_event_record(event=event)
    record = _attempt_record(event=event)
    if record.outcome in FINAL_OUTCOMES:
        return ProcessingReport(
            outcome=Outcome.SKIPPED_DUPLICATE, result=record.result, attempts=record.attempts
        )

    with transaction.atomic():
        record = _locked(record.pk)
        if record.outcome in FINAL_OUTCOMES:
            # Another delivery of the same event finished while this one waited for the lock.
            return _duplicate(record, attempt_counted=True)
        result, error = "", ""
        try:
            handled = order_event_handle(event=event)
        except (TransientError, SoftTimeLimitExceeded) as exc:
            outcome = Outcome.DEAD if final_attempt else Outcome.FAILED
            error = str(exc) or exc.__class__.__name__
        except PermanentError as exc:
            outcome, error = Outcome.DEAD, str(exc)
        except Exception as exc:
            logger.exception(
                "unexpected error handling an order event",
                extra={"eventId": event.event_id, "orderId": event.order_id},
            )
            outcome, error = Outcome.DEAD, f"{exc.__class__.__name__}: {exc}"
        else:
            outcome, result = handled.outcome, handled.result
        record.outcome = outcome
        record.result = result
        record.last_error = error[:_MAX_ERROR_LENGTH]
        record.completed_at = timezone.now() if outcome != Outcome.FAILED else None
        _outcome_store(record)
        return ProcessingReport(
            outcome=outcome, result=result, error=error, attempts=record.attempts
        )


# Step one as one statement, committed on its own: the event's row is inserted with its first
# attempt, or the existing row counts one more attempt, or, when the event is already done, one
# more duplicate delivery. ON CONFLICT waits for a delivery holding the row's lock in step two.
_ATTEMPT_SQL = """
INSERT INTO {table} ({columns}) VALUES ({values})
ON CONFLICT (event_id) DO UPDATE SET
    attempts = {table}.attempts + CASE WHEN {table}.outcome IN ({finals}) THEN 0 ELSE 1 END,
    duplicate_deliveries = {table}.duplicate_deliveries
        + CASE WHEN {table}.outcome IN ({finals}) THEN 1 ELSE 0 END,
    updated_at = excluded.updated_at
RETURNING id, outcome, result, attempts
"""


def _attempt_record(*, event: OrderEvent) -> ProcessedEvent:
    """Count this delivery in the event log (step one); the row as it now stands, with its
    ``pk``, ``outcome``, ``result`` and ``attempts``. One statement where ``get_or_create`` under
    a lock took six (bench/FINDINGS.md)."""
    new = ProcessedEvent(
        event_id=event.event_id,
        event_type=event.event_type,
        order_id=event.order_id,
        outcome=Outcome.RECEIVED,
        envelope=event.envelope,
        attempts=1,
    )
    insert = insert_parts(new)
    sql = _ATTEMPT_SQL.format(
        table=insert.table,
        columns=insert.columns,
        values=insert.placeholders,
        finals=", ".join(["%s"] * len(FINAL_OUTCOMES)),
    )
    finals = sorted(FINAL_OUTCOMES)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*insert.params, *finals, *finals])
        pk, outcome, result, attempts = cursor.fetchone()
    return ProcessedEvent(pk=pk, outcome=outcome, result=result, attempts=attempts)


# Step two's lock and its final write as plain statements: the ORM compiled its
# ``select_for_update().get()`` and ``save(update_fields=...)`` on every event.
_LOCK_SQL = "SELECT outcome, result, attempts FROM events_processedevent WHERE id = %s"
_FINISH_SQL = """
UPDATE events_processedevent
SET outcome = %s, result = %s, last_error = %s, completed_at = %s, updated_at = %s
WHERE id = %s
"""


def _locked(pk: int) -> ProcessedEvent:
    """Lock the event's row for step two (where the store has row locks) and read its
    ``outcome``, ``result`` and ``attempts``."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_SQL + lock, [pk])
        row = cursor.fetchone()
    if row is None:
        raise ProcessedEvent.DoesNotExist(pk)
    outcome, result, attempts = row
    return ProcessedEvent(pk=pk, outcome=outcome, result=result, attempts=attempts)


def _outcome_store(record: ProcessedEvent) -> None:
    """Store the outcome of step two, as ``save(update_fields=...)`` would."""
    record.updated_at = timezone.now()
    params = db_values(
        ProcessedEvent,
        outcome=record.outcome,
        result=record.result,
        last_error=record.last_error,
        completed_at=record.completed_at,
        updated_at=record.updated_at,
        pk=record.pk,
    )
    with connection.cursor() as cursor:
        cursor.execute(_FINISH_SQL, params)


def _ignored_event_record(*, event: OrderEvent) -> ProcessingReport:
    """An event this worker does not act on: one insert, no lock (nothing to serialise)."""
    result = "no action for this event type"
    record, created = ProcessedEvent.objects.get_or_create(
        event_id=event.event_id,
        defaults={
            "event_type": event.event_type,
            "order_id": event.order_id,
            "outcome": Outcome.IGNORED,
            "result": result,
            "attempts": 1,
            "envelope": event.envelope,
            "completed_at": timezone.now(),
        },
    )
    if created:
        return ProcessingReport(outcome=Outcome.IGNORED, result=result, attempts=1)
    if record.outcome in FINAL_OUTCOMES:
        return _duplicate(record)
    ProcessedEvent.objects.filter(pk=record.pk).update(
        outcome=Outcome.IGNORED,
        result=result,
        last_error="",
        attempts=F("attempts") + 1,
        completed_at=timezone.now(),
        updated_at=timezone.now(),
    )
    return ProcessingReport(outcome=Outcome.IGNORED, result=result, attempts=record.attempts + 1)


def order_event_mark_failed(*, event: OrderEvent, error: str, dead: bool) -> None:
    """Record a failure that happened outside the handler (e.g. the database went away)."""
    ProcessedEvent.objects.filter(event_id=event.event_id).exclude(
        outcome__in=FINAL_OUTCOMES
    ).update(
        outcome=Outcome.DEAD if dead else Outcome.FAILED,
        last_error=error[:_MAX_ERROR_LENGTH],
        updated_at=timezone.now(),
    )


def malformed_event_record(*, envelope: Any, error: str) -> ProcessedEvent | None:
    """Keep a malformed event that still names an event id in the log, as ``dead``.

    Without a usable event id there is nothing to key it by: the dead-letter
    queue and the log line are its record. An existing row is never overwritten.
    """
    event_id = envelope.get("eventId") if isinstance(envelope, dict) else None
    if not isinstance(event_id, str) or not event_id or len(event_id) > 100:
        return None

    def text(key: str) -> str:
        value = envelope.get(key)
        return value[:100] if isinstance(value, str) else ""

    record, _ = ProcessedEvent.objects.get_or_create(
        event_id=event_id,
        defaults={
            "event_type": text("type")[:64],
            "order_id": text("orderId"),
            "outcome": Outcome.DEAD,
            "result": "malformed envelope",
            "last_error": error[:_MAX_ERROR_LENGTH],
            "attempts": 1,
            "envelope": envelope,
            "completed_at": timezone.now(),
        },
    )
    return record


def dead_event_mark_replayed(*, event_id: str) -> None:
    ProcessedEvent.objects.filter(event_id=event_id).update(
        replays=F("replays") + 1, updated_at=timezone.now()
    )
