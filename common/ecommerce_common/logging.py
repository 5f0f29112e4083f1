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


# --- reading the JSON lines back, for people (`./manage_all.sh logs`) --------------------------

_SHOWN = ("time", "level", "logger", "service", "message", "request_id", "event", "exception")
# Celery's own line per task received and per task done: the worker's event line says it all.
_PER_TASK_LOGGERS = frozenset({"celery.app.trace", "celery.worker.strategy"})
EVENT_FIELDS = ("type", "orderId", "eventId", "outcome", "attempts", "durationMs")


def render_log_line(line: str) -> str | None:
    """One JSON log line as a line for people; None for a line not worth showing.

    A worker's event line becomes ``time level type order=... event=... outcome attempts=n
    duration``; any other JSON line ``time level logger: message key=value...``; a line that
    is not JSON (gunicorn's own) is shown as it is.
    """
    text = line.rstrip("\n")
    if not text.startswith("{"):
        return text
    try:
        record = json.loads(text)
    except ValueError:
        return text
    if not isinstance(record, dict):
        return text
    level = str(record.get("level", ""))
    if record.get("logger") in _PER_TASK_LOGGERS and level in ("INFO", "DEBUG"):
        return None
    stamp = str(record.get("time", "")).replace("T", " ")[:23]
    if all(record.get(key) is not None for key in EVENT_FIELDS[:4]):
        parts = [
            stamp,
            f"{level:<7}",
            str(record["type"]),
            f"order={record['orderId']}",
            f"event={record['eventId']}",
            str(record["outcome"]),
            f"attempts={record.get('attempts', '?')}",
            f"{record.get('durationMs', '?')}ms",
        ]
        if record.get("error"):
            parts.append(f"error={record['error']}")
        return " ".join(parts)
    extras = " ".join(
        f"{key}={value}"
        for key, value in record.items()
        if key not in _SHOWN and value not in (None, "")
    )
    rendered = f"{stamp} {level:<7} {record.get('logger', '')}: {record.get('message', '')}"
    if extras:
        rendered += f" {extras}"
    if record.get("exception"):
        rendered += "\n" + str(record["exception"])
    return rendered
