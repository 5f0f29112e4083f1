"""Celery tasks: the order-event consumer and the periodic sweeps.

A task is an interface like a view: it validates its input, calls a service,
and turns the outcome into what the broker should do with the message:
acknowledge it, retry it later (a new copy, with backoff and jitter), or
reject it without requeueing so RabbitMQ moves it to ``integration.dead``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import Task, shared_task
from celery.exceptions import Reject
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.db import DatabaseError

from ecommerce_common.contracts import MalformedEnvelope, envelope_parse
from ecommerce_common.events import ORDER_EVENT_TASK
from events import periodic
from events.metrics import event_handled_record
from events.models import Outcome
from events.services import (
    malformed_event_record,
    order_event_mark_failed,
    order_event_process,
)

logger = logging.getLogger("events.worker")

_MISSING = object()


def retry_countdown(*, retries: int) -> float:
    """Seconds before retry number ``retries + 1``: exponential, capped, fully jittered."""
    factor = settings.EVENT_RETRY_BACKOFF_SECONDS
    # Celery's helper works in whole seconds; scale so sub-second factors (tests) work too.
    scale = 1000
    milliseconds = get_exponential_backoff_interval(
        factor=int(factor * scale),
        retries=retries,
        maximum=int(settings.EVENT_RETRY_BACKOFF_MAX_SECONDS * scale),
        full_jitter=settings.EVENT_RETRY_JITTER,
    )
    return milliseconds / scale


def _finish(message: str, *, started: float, level: int = logging.INFO, **fields: Any) -> None:
    """Log how one delivery ended, and count it in the metrics (``events.metrics``).

    One line per delivery, with its type, order id, event id, outcome, attempts and duration
    (``./manage_all.sh logs worker`` shows exactly those). The request id (restored from the
    message by install_request_id_propagation, kept across retries) is added to every record
    by the logging filter as ``request_id``. JSON logs carry the fields as keys; the text
    format gets them in the message too.
    """
    seconds = time.perf_counter() - started
    fields.setdefault("attempts", fields.get("attempt"))
    fields["durationMs"] = round(seconds * 1000, 1)
    event_handled_record(event_type=fields.get("type"), outcome=fields["outcome"], seconds=seconds)
    summary = " ".join(
        f"{key}={fields[key]}"
        for key in ("type", "eventId", "orderId", "outcome", "attempts", "durationMs")
        if fields.get(key) is not None
    )
    logger.log(level, "%s (%s)", message, summary, extra={"event": message, **fields})


@shared_task(bind=True, name=ORDER_EVENT_TASK, max_retries=None)
def order_event(self: Task, envelope: Any = _MISSING, *args: Any, **kwargs: Any) -> str:
    """Handle one order event envelope (see ``ecommerce_common.events``)."""
    started = time.perf_counter()
    retries = self.request.retries or 0
    attempt = retries + 1
    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    try:
        if envelope is _MISSING or args or kwargs:
            raise MalformedEnvelope({"arguments": "the task takes exactly one envelope"})
        event = envelope_parse(envelope=envelope)
    except MalformedEnvelope as exc:
        _finish(
            "order event rejected: malformed envelope",
            started=started,
            level=logging.ERROR,
            outcome=Outcome.DEAD.value,
            eventId=envelope.get("eventId") if isinstance(envelope, dict) else None,
            orderId=envelope.get("orderId") if isinstance(envelope, dict) else None,
            type=envelope.get("type") if isinstance(envelope, dict) else None,
            attempt=attempt,
            error=str(exc),
        )
        try:
            malformed_event_record(envelope=envelope, error=str(exc))
        except DatabaseError:
            logger.exception("could not record a malformed event")
        raise Reject(str(exc), requeue=False) from exc

    fields = {
        "eventId": event.event_id,
        "orderId": event.order_id,
        "type": event.event_type,
        "attempt": attempt,
        "redelivered": redelivered,
    }
    final_attempt = retries >= settings.EVENT_MAX_RETRIES
    try:
        report = order_event_process(event=event, final_attempt=final_attempt)
    except DatabaseError as exc:
        # The event log is unreachable: nothing was recorded as done, so try again later.
        error = f"database: {exc.__class__.__name__}: {exc}"
        if final_attempt:
            _finish(
                "order event dead: database unavailable",
                started=started,
                level=logging.ERROR,
                outcome=Outcome.DEAD.value,
                error=error,
                **fields,
            )
            raise Reject(error, requeue=False) from exc
        countdown = retry_countdown(retries=retries)
        _finish(
            "order event failed; will retry",
            started=started,
            level=logging.WARNING,
            outcome=Outcome.FAILED.value,
            error=error,
            retryIn=countdown,
            **fields,
        )
        raise self.retry(exc=exc, countdown=countdown) from exc

    if report.outcome == Outcome.FAILED:
        countdown = retry_countdown(retries=retries)
        try:
            retry = self.retry(countdown=countdown, throw=False)
        except Exception as exc:
            # The retry could not be published (broker trouble): dead-letter this delivery
            # rather than acknowledge it and lose the event.
            order_event_mark_failed(event=event, error=f"retry not sent: {exc}", dead=True)
            _finish(
                "order event dead: retry not sent",
                started=started,
                level=logging.ERROR,
                outcome=Outcome.DEAD.value,
                attempts=report.attempts,
                **fields,
            )
            raise Reject(str(exc), requeue=False) from exc
        _finish(
            "order event failed; will retry",
            started=started,
            level=logging.WARNING,
            outcome=report.outcome.value,
            error=report.error,
            retryIn=countdown,
            attempts=report.attempts,
            **fields,
        )
        raise retry
    if report.outcome == Outcome.DEAD:
        _finish(
            "order event dead-lettered",
            started=started,
            level=logging.ERROR,
            attempts=report.attempts,
            outcome=report.outcome.value,
            error=report.error,
            **fields,
        )
        raise Reject(report.error, requeue=False)
    _finish(
        "order event handled",
        started=started,
        outcome=report.outcome.value,
        result=report.result,
        attempts=report.attempts,
        **fields,
    )
    return report.outcome.value


@shared_task(name="integration.relay_outbox", ignore_result=True)
def relay_outbox() -> dict | None:
    """Ask order_service to publish outbox rows left behind (the sweep)."""
    return periodic.outbox_relay_trigger()


@shared_task(name="integration.expire_orders", ignore_result=True)
def expire_orders() -> dict | None:
    """Ask order_service to expire unpaid orders past their reservation's lifetime."""
    return periodic.orders_expire_trigger()


@shared_task(name="integration.expire_reservations", ignore_result=True)
def expire_reservations() -> dict | None:
    """Ask product_service to release reservations past their lifetime."""
    return periodic.reservations_expire_trigger()


@shared_task(name="integration.repair_stock", ignore_result=True)
def repair_stock() -> dict | None:
    """Ask product_service to mend stock that interrupted steps left out (its stock audit)."""
    return periodic.stock_repair_trigger()
