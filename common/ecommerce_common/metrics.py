"""Prometheus metrics: the ones every service shares, and how a process serves them.

Every web service counts its requests per route (the URL pattern, never the raw path),
method and status, with their latency; services add their own metrics in their own
``metrics.py``. Every metric has labels, so only a process that counts something (or imports
the module that counts it) writes files for it: not a probe, not a management command.

gunicorn runs several worker processes and the Celery worker several task processes, so
the values live in prometheus_client's multiprocess files under ``PROMETHEUS_MULTIPROC_DIR``
(``deploy/gunicorn.conf.py`` and the worker set it up, cleaned at start): whichever process
answers a scrape adds up all of them. Without that variable (tests, ``runserver``) a process
serves its own values.

Where: with ``METRICS_PORT`` set (the chart, ``up``), ``/metrics`` answers only on that port,
which gunicorn binds beside the service's own and the ingress never routes; the service's
port answers 404 there, and the metrics port answers nothing else. Without it, ``/metrics``
is served on the service's port (``runserver``, tests).

Values that live in a store (outbox rows, the dead-letter queue) are read when scraped, by
the collectors listed in the ``METRICS_COLLECTORS`` setting (dotted paths of classes).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from ecommerce_common.errors import handler404
from ecommerce_common.metrics_files import multiprocess_dir

METRICS_PATH = "/metrics"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNRESOLVED_ROUTE = "<unresolved>"

HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests answered, by route (URL pattern), method and status.",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request, by route (URL pattern) and method.",
    ["route", "method"],
)
VERIFY_CACHE = Counter(
    "verify_cache_requests_total",
    "Token verifications answered from the verify cache (hit) or by user_service (miss).",
    ["result"],
)


def registry(collectors: Iterable[object] = ()) -> CollectorRegistry:
    """The registry a scrape reads: every process's values (multiprocess mode) or this
    process's, plus ``collectors`` (read at scrape time)."""
    scraped = CollectorRegistry()
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(scraped)
    else:
        scraped.register(_ProcessValues())
    for collector in collectors:
        scraped.register(collector)
    return scraped


class _ProcessValues:
    """This process's default registry, as a collector of a fresh registry."""

    def collect(self):
        return REGISTRY.collect()


@cache
def _store_collectors() -> tuple[object, ...]:
    return tuple(import_string(path)() for path in getattr(settings, "METRICS_COLLECTORS", ()))


def metrics_response() -> HttpResponse:
    body = generate_latest(registry(_store_collectors()))
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


def _local_port(request: HttpRequest) -> int | None:
    """The port the request came in on (gunicorn's socket), or None outside gunicorn.

    Not ``SERVER_PORT``: gunicorn takes that from the Host header, which the caller chooses.
    """
    sock = request.META.get("gunicorn.socket")
    if sock is None:
        return None
    try:
        return sock.getsockname()[1]
    except (OSError, IndexError, TypeError):
        return None


class MetricsMiddleware:
    """Count and time every request by route; serve ``/metrics`` (see the module docstring).

    First in ``MIDDLEWARE``, so the time covers the whole stack. The labelled children are
    kept per label set: the hot path does one dict lookup, one add and one observe.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        port = getattr(settings, "METRICS_PORT", None)
        self.metrics_port = int(port) if port else None
        self._requests: dict[tuple[str, str, int], Counter] = {}
        self._latency: dict[tuple[str, str], Histogram] = {}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.metrics_port is not None:
            on_metrics_port = _local_port(request) == self.metrics_port
            if on_metrics_port or request.path == METRICS_PATH:
                if on_metrics_port and request.path == METRICS_PATH:
                    return metrics_response()
                return handler404(request)
        elif request.path == METRICS_PATH:
            return metrics_response()
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = request.resolver_match
        route = match.route if match is not None else UNRESOLVED_ROUTE
        method = request.method if request.method in _METHODS else "other"
        key = (route, method, response.status_code)
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = HTTP_REQUESTS.labels(route, method, str(key[2]))
        counter.inc()
        timer = self._latency.get(key[:2])
        if timer is None:
            timer = self._latency[key[:2]] = HTTP_LATENCY.labels(route, method)
        timer.observe(elapsed)
        return response
