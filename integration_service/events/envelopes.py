"""Validation of the order-event envelope ``{eventId, type, orderId, occurredAt, version, data}``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ecommerce_common.events import ENVELOPE_VERSION

# Ids end up in URL paths of the internal APIs: nothing that could change the path.
_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
_TYPE = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
_FIELDS = ("eventId", "type", "orderId", "occurredAt", "version", "data")


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
