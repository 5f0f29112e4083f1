"""Carry the request id through Celery: stamped on publish, restored when a task runs."""

from __future__ import annotations

from typing import Any

from celery import signals

from ecommerce_common.request_id import clear_request_id, get_request_id, set_request_id

HEADER = "request_id"


def _stamp(headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is not None and get_request_id() and HEADER not in headers:
        headers[HEADER] = get_request_id()


def _restore(task: Any = None, **_: Any) -> None:
    request = getattr(task, "request", None)
    set_request_id(getattr(request, HEADER, None) if request else None)


def _clear(**_: Any) -> None:
    clear_request_id()


def install_request_id_propagation() -> None:
    """Connect the signal handlers (idempotent)."""
    signals.before_task_publish.connect(
        _stamp, weak=False, dispatch_uid="ecommerce_request_id_stamp"
    )
    signals.task_prerun.connect(_restore, weak=False, dispatch_uid="ecommerce_request_id_restore")
    signals.task_postrun.connect(_clear, weak=False, dispatch_uid="ecommerce_request_id_clear")
