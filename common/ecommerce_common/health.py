"""``/health`` (liveness: no I/O) and ``/ready`` (the service's database and broker).

A service whose work does not stop with the broker (order_service: its outbox holds the events)
sets ``READY_REQUIRES_BROKER = False``: it stays ready while the broker is down, and ``/ready``
reports the broker's state instead. ``READY_DETAILS`` names a function (dotted path) whose dict
is added to a ready answer, e.g. order_service's outbox backlog.

With ``REDIS_URL`` set, ``/ready`` also says whether the shared cache's Redis answers
(``"redis": "ok"`` or ``"unreachable"``), but never fails on it: without Redis the
service runs on, uncached."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.utils.module_loading import import_string
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok", "service": getattr(settings, "SERVICE_NAME", "")})


def _check_databases() -> str | None:
    for alias in connections:
        try:
            connection = connections[alias]
            connection.ensure_connection()
            if connection.vendor != "mongodb":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT 1")
            else:
                connection.connection.admin.command("ping")
        except Exception as exc:
            connections[alias].close()
            return f"database {alias}: {exc.__class__.__name__}"
    return None


def _check_broker() -> str | None:
    url = getattr(settings, "CELERY_BROKER_URL", None)
    if not url:
        return None
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"broker: {exc.__class__.__name__}"
    return None


def _redis_detail() -> dict[str, str]:
    from django.core.cache import caches

    from ecommerce_common.cache import RedisCache
    from ecommerce_common.settings import SHARED_CACHE_ALIAS

    if SHARED_CACHE_ALIAS not in settings.CACHES:
        return {}
    cache = caches[SHARED_CACHE_ALIAS]
    if not isinstance(cache, RedisCache):
        return {}
    return {"redis": "ok" if cache.ping() else "unreachable"}


@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    broker_required = getattr(settings, "READY_REQUIRES_BROKER", True)
    broker = _check_broker()
    problems = [p for p in (_check_databases(), broker if broker_required else None) if p]
    detail = _redis_detail()
    if problems:
        logger.warning("not ready", extra={"problems": problems})
        return JsonResponse(
            {
                "status": "unavailable",
                "message": "; ".join(problems),
                "code": "not_ready",
                "errors": {},
                **detail,
            },
            status=503,
        )
    body: dict = {"status": "ready", **detail}
    if not broker_required:
        body["broker"] = broker or "ok"
        if broker:
            logger.warning("ready without the broker", extra={"problem": broker})
    details = getattr(settings, "READY_DETAILS", None)
    if details:
        body.update(import_string(details)())
    return JsonResponse(body)
