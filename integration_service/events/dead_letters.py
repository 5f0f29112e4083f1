"""Dead letters: list them and send them back to the work queue.

Two sources behind one interface, so ``replay_dead_letters`` has one code path:

- ``QueueDeadLetters``: the messages RabbitMQ dead-lettered into ``integration.dead``.
  A replay republishes the message unchanged except for its retry count (reset to 0),
  its ETA and the ``x-death`` bookkeeping, waits for the publisher confirm, and only
  then acknowledges the dead copy: a crash in between duplicates (harmless, the worker
  is idempotent) but never loses a message.
- ``RecordedDeadLetters``: the events the log marks ``dead``, resent from the envelope
  kept in their row. This is the only record on a broker without dead-lettering (the
  filesystem transport of local mode) and a fallback if a dead-letter queue was purged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from kombu import Connection, Producer
from kombu.message import Message

from ecommerce_common.contracts import MalformedEnvelope, envelope_parse
from ecommerce_common.events import (
    DEAD_LETTER_QUEUE,
    EXCHANGE,
    ORDER_EVENT_TASK,
    QUEUE,
    integration_queues,
)
from ecommerce_common.tracing import TRACE_CONTEXT_KEY, trace_context_attached
from events.models import Outcome, ProcessedEvent
from events.services import dead_event_mark_replayed

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeadLetter:
    event_id: str | None
    event_type: str | None
    order_id: str | None
    reason: str
    replayable: bool = True


class DeadLetterSource(Protocol):
    name: str

    def list(self) -> list[DeadLetter]: ...

    def replay(self, *, event_ids: set[str] | None = None) -> list[DeadLetter]: ...

    def depth(self) -> int: ...


def _last_errors(event_ids: Iterable[str | None]) -> dict[str, str]:
    ids = [event_id for event_id in event_ids if event_id]
    return dict(
        ProcessedEvent.objects.filter(event_id__in=ids).values_list("event_id", "last_error")
    )


def _envelope_of(message: Message) -> dict[str, Any] | None:
    try:
        body = message.decode()
    except Exception:
        return None
    # Celery message protocol 2: the body is [args, kwargs, embed].
    if isinstance(body, list | tuple) and body and isinstance(body[0], list | tuple) and body[0]:
        envelope = body[0][0]
        return envelope if isinstance(envelope, dict) else None
    return None


def _fresh_headers(headers: dict[str, Any]) -> dict[str, Any]:
    fresh = {
        key: value
        for key, value in headers.items()
        if not key.startswith(("x-death", "x-first-death", "x-last-death"))
    }
    fresh.update(retries=0, eta=None, expires=None)
    return fresh


class QueueDeadLetters:
    """The RabbitMQ dead-letter queue ``integration.dead``."""

    name = "queue"

    def __init__(self, *, broker_url: str | None = None) -> None:
        self.broker_url = broker_url or settings.CELERY_BROKER_URL

    def _connection(self) -> Connection:
        return Connection(
            self.broker_url,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            connect_timeout=5,
        )

    def _held(self, channel: Any) -> list[Message]:
        """Take every message of the queue without acknowledging it (they stay safe)."""
        for queue in integration_queues():
            queue(channel).declare()
        dead = next(q for q in integration_queues() if q.name == DEAD_LETTER_QUEUE)(channel)
        messages = []
        while (message := dead.get(no_ack=False, accept=["json"])) is not None:
            messages.append(message)
        return messages

    def _describe(self, message: Message, errors: dict[str, str]) -> DeadLetter:
        envelope = _envelope_of(message) or {}
        event_id = envelope.get("eventId")
        headers = message.headers or {}
        reason = errors.get(event_id or "") or str(headers.get("x-first-death-reason", ""))
        return DeadLetter(
            event_id=event_id if isinstance(event_id, str) else None,
            event_type=envelope.get("type") if isinstance(envelope.get("type"), str) else None,
            order_id=envelope.get("orderId") if isinstance(envelope.get("orderId"), str) else None,
            reason=reason or "rejected",
        )

    def depth(self) -> int:
        """Messages in the queue, without taking any (a passive declare)."""
        with self._connection() as connection:
            return connection.default_channel.queue_declare(
                queue=DEAD_LETTER_QUEUE, passive=True
            ).message_count

    def list(self) -> list[DeadLetter]:
        with self._connection() as connection:
            channel = connection.channel()
            messages = self._held(channel)
            errors = _last_errors((_envelope_of(m) or {}).get("eventId") for m in messages)
            letters = [self._describe(message, errors) for message in messages]
            for message in messages:
                message.requeue()
        return letters

    def replay(self, *, event_ids: set[str] | None = None) -> list[DeadLetter]:
        replayed = []
        with self._connection() as connection:
            channel = connection.channel()
            messages = self._held(channel)
            errors = _last_errors((_envelope_of(m) or {}).get("eventId") for m in messages)
            producer = Producer(channel)
            for message in messages:
                letter = self._describe(message, errors)
                if event_ids is not None and letter.event_id not in event_ids:
                    message.requeue()
                    continue
                producer.publish(
                    message.body,
                    exchange=EXCHANGE,
                    routing_key=QUEUE,
                    content_type=message.content_type,
                    content_encoding=message.content_encoding,
                    headers=_fresh_headers(message.headers or {}),
                    delivery_mode=2,
                    correlation_id=message.properties.get("correlation_id"),
                    retry=True,
                )
                message.ack()
                if letter.event_id:
                    dead_event_mark_replayed(event_id=letter.event_id)
                replayed.append(letter)
        return replayed


class RecordedDeadLetters:
    """The events the log holds as ``dead``, resent from their recorded envelope."""

    name = "log"

    def _letters(self) -> list[tuple[ProcessedEvent, DeadLetter]]:
        letters = []
        for record in ProcessedEvent.objects.filter(outcome=Outcome.DEAD).order_by("received_at"):
            try:
                envelope_parse(envelope=record.envelope)
                replayable = True
            except MalformedEnvelope:
                replayable = False
            letters.append(
                (
                    record,
                    DeadLetter(
                        event_id=record.event_id,
                        event_type=record.event_type,
                        order_id=record.order_id,
                        reason=record.last_error,
                        replayable=replayable,
                    ),
                )
            )
        return letters

    def depth(self) -> int:
        return ProcessedEvent.objects.filter(outcome=Outcome.DEAD).count()

    def list(self) -> list[DeadLetter]:
        return [letter for _, letter in self._letters()]

    def replay(self, *, event_ids: set[str] | None = None) -> list[DeadLetter]:
        from integration_service.celery import app

        replayed = []
        for record, letter in self._letters():
            if event_ids is not None and letter.event_id not in event_ids:
                continue
            if not letter.replayable:
                logger.warning(
                    "dead event not replayed: its envelope is malformed",
                    extra={"eventId": record.event_id},
                )
                continue
            with trace_context_attached(record.envelope.get(TRACE_CONTEXT_KEY)):
                app.send_task(ORDER_EVENT_TASK, args=[record.envelope])
            dead_event_mark_replayed(event_id=record.event_id)
            replayed.append(letter)
        return replayed


def dead_letter_source(*, source: str = "auto") -> DeadLetterSource:
    """``queue`` on RabbitMQ (which dead-letters), ``log`` elsewhere, unless told otherwise."""
    if source == "auto":
        source = "queue" if settings.CELERY_BROKER_URL.startswith(("amqp", "pyamqp")) else "log"
    if source == "queue":
        return QueueDeadLetters()
    if source == "log":
        return RecordedDeadLetters()
    raise ValueError(f"unknown dead-letter source {source!r}")
