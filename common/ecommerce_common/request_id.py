"""The request id of the work in progress, carried across HTTP calls and Celery tasks."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

HEADER = "X-Request-ID"
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def get_request_id() -> str | None:
    return _current.get()


def set_request_id(value: str | None) -> str:
    """Adopt ``value`` when it is a sane id, otherwise mint one; return the id in force."""
    request_id = value if value and _VALID.match(value) else uuid.uuid4().hex
    _current.set(request_id)
    return request_id


def clear_request_id() -> None:
    _current.set(None)
