"""The contract between the services (docs/ARCHITECTURE.md §4-§6), in one place: the order
statuses and transitions that cross the wire, the error codes one service reads from another's
answers, the reading of an error answer, and the order-event envelope (its types, how it is
built and how it is read).

Each service's own vocabulary (order_service's ``OrderStatus`` and ``OrderErrorCode``,
product_service's ``ProductErrorCode``) takes these values from here, and the test stand-ins
of integration_service answer by them, so the two sides of a call cannot drift apart.
Transport (the task name, queues and exchanges) is ``ecommerce_common.events``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from ecommerce_common.tracing import TRACE_CONTEXT_KEY, current_trace_context

# --- order statuses (order_service answers them; the worker sets them) ------------------------


class OrderStatus(StrEnum):
    PAYMENT_PENDING = "payment_pending"
    PAID = "paid"
    PAYMENT_FAILED = "payment_failed"
    CONFIRMED = "confirmed"
    OUT_OF_STOCK = "out_of_stock"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
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


def can_transition(source: str, target: str) -> bool:
    return target in ORDER_TRANSITIONS.get(source, frozenset())


# --- error codes read across services ---------------------------------------------------------


class StockErrorCode(StrEnum):
    """product_service's answers to the reservation calls (read by order_service and the worker)."""

    INSUFFICIENT_STOCK = "insufficient_stock"
    UNKNOWN_PRODUCT = "unknown_product"
    RESERVATION_NOT_FOUND = "reservation_not_found"
    RESERVATION_NOT_ACTIVE = "reservation_not_active"
    RESERVATION_IN_PROGRESS = "reservation_in_progress"


class OrderTransitionErrorCode(StrEnum):
    """order_service's answer to a refused status change (read by the worker)."""

    ILLEGAL_TRANSITION = "illegal_transition"


def illegal_transition_errors(*, status: str, requested: str) -> dict[str, str]:
    """The ``errors`` of an ``illegal_transition`` answer: the order's current status and the
    status asked for."""
    return {"status": status, "requested": requested}


# --- error answers: ``{"message", "code", "errors"}`` (ecommerce_common.errors) ----------------


@dataclass(frozen=True)
class ErrorAnswer:
    """What an error answer says; empty parts where the body is not that shape (e.g. a proxy's
    HTML page)."""

    code: str
    message: str
    errors: dict[str, Any]

    @property
    def reported_status(self) -> str | None:
        """The order's current status in an ``illegal_transition`` answer (``errors.status``)."""
        status = self.errors.get("status")
        return status if isinstance(status, str) else None


def error_answer_parse(*, response: Any) -> ErrorAnswer:
    """The error answer in ``response`` (anything with ``.json()``, e.g. ``requests.Response``)."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    errors = body.get("errors") if isinstance(body.get("errors"), dict) else {}
    return ErrorAnswer(
        code=str(body.get("code", "")), message=str(body.get("message", "")), errors=errors
    )


# --- order events -----------------------------------------------------------------------------

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

# Ids end up in URL paths of the internal APIs: nothing that could change the path.
_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
_TYPE = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
_FIELDS = ("eventId", "type", "orderId", "occurredAt", "version", "data")


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


class MalformedEnvelope(ValueError):
    """The message is not an order event this worker can handle; it goes to the dead letters."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{key}: {value}" for key, value in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class OrderEvent:
    event_id: str
    event_type: str
    order_id: str
    occurred_at: datetime
    version: int
    data: dict[str, Any]
    envelope: dict[str, Any]


def _check_id(value: Any, *, pattern: re.Pattern[str] = _ID) -> str | None:
    if not isinstance(value, str):
        return "must be a string"
    if not pattern.match(value):
        return "has an invalid format"
    return None


def envelope_parse(*, envelope: Any) -> OrderEvent:
    """The event in ``envelope``, or ``MalformedEnvelope`` listing every problem found."""
    if not isinstance(envelope, dict):
        raise MalformedEnvelope({"envelope": f"must be an object, not {type(envelope).__name__}"})
    errors: dict[str, str] = {field: "is required" for field in _FIELDS if field not in envelope}
    for field, problem in (
        ("eventId", _check_id(envelope.get("eventId"))),
        ("orderId", _check_id(envelope.get("orderId"))),
        ("type", _check_id(envelope.get("type"), pattern=_TYPE)),
    ):
        if field in envelope and problem:
            errors[field] = problem
    occurred_at = None
    if "occurredAt" in envelope:
        try:
            occurred_at = datetime.fromisoformat(envelope["occurredAt"])
        except (TypeError, ValueError):
            errors["occurredAt"] = "must be an ISO 8601 time"
    version = envelope.get("version")
    # A newer version is refused rather than guessed at: it waits in the dead letters
    # until a worker that understands it replays it.
    if "version" in envelope and (type(version) is not int or version != ENVELOPE_VERSION):
        errors["version"] = f"must be {ENVELOPE_VERSION}"
    if "data" in envelope and not isinstance(envelope["data"], dict):
        errors["data"] = "must be an object"
    if errors:
        raise MalformedEnvelope(errors)
    return OrderEvent(
        event_id=envelope["eventId"],
        event_type=envelope["type"],
        order_id=envelope["orderId"],
        occurred_at=occurred_at,
        version=version,
        data=envelope["data"],
        envelope=envelope,
    )
