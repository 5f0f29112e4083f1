"""Structured logging: JSON lines (or plain text) stamped with the request id."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from ecommerce_common.request_id import get_request_id

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = get_request_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; ``extra={...}`` fields become top-level keys."""

    def __init__(self, *, service: str = "") -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "service": self.service,
            "message": record.getMessage(),
        }
        payload.update(
            (key, value) for key, value in record.__dict__.items() if key not in _RESERVED
        )
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def logging_config(*, service: str, level: str | None = None, fmt: str | None = None) -> dict:
    """A ``LOGGING`` dict for Django: everything to stderr; ``LOG_LEVEL`` and ``LOG_FORMAT``
    (``json``, the default, or ``text``) from the environment unless given."""
    from ecommerce_common.settings import env

    level = level or env.str("LOG_LEVEL", default="INFO")
    fmt = fmt or env.str("LOG_FORMAT", default="json")
    formatter = (
        {"()": JsonFormatter, "service": service}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"default": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level.upper()},
        "loggers": {
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "WARNING"},
        },
    }
