"""Opt-in OpenTelemetry tracing: Django, requests, psycopg, pymongo and Celery.

Off unless one of these is set, and then nothing of OpenTelemetry is even imported:

- ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``): spans go to
  that collector over OTLP/HTTP, in batches;
- ``OTEL_TRACES_EXPORTER=console``: each span printed to stdout (local use);
- ``OTEL_TRACES_FILE=/path``: each span appended to that file as one JSON line (tests, local
  use; every process of the system may share the file).

The W3C ``traceparent`` travels on every HTTP call (the requests instrumentation, so the
shared ``ServiceClient``), in Celery's message headers, and in the order-event envelope
(``traceContext``), so an event published by the outbox sweep long after the request
still joins the trace of the change it reports. ``OTEL_SERVICE_NAME`` overrides the
service name (default: the ``SERVICE_NAME`` setting).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from typing import Any

TRACE_CONTEXT_KEY = "traceContext"
# Probes and scrapes make no useful traces.
EXCLUDED_URLS = "health,ready,metrics"


def _configured() -> bool:
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    return bool(
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or os.environ.get("OTEL_TRACES_EXPORTER", "").lower() == "console"
        or os.environ.get("OTEL_TRACES_FILE")
    )


ENABLED: bool = _configured()
_setup_lock = threading.Lock()
_set_up = False


def setup_tracing(*, service_name: str) -> bool:
    """Install the tracer provider and the instrumentations, once per process; False (and
    nothing done) when tracing is not configured."""
    global _set_up
    if not ENABLED:
        return False
    with _setup_lock:
        if _set_up:
            return True
        _install(os.environ.get("OTEL_SERVICE_NAME") or service_name)
        _set_up = True
    return True


def _install(service_name: str) -> None:
    from importlib.util import find_spec

    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SimpleSpanProcessor,
    )

    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    ):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    if os.environ.get("OTEL_TRACES_EXPORTER", "").lower() == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    if os.environ.get("OTEL_TRACES_FILE"):
        provider.add_span_processor(
            SimpleSpanProcessor(JsonLinesSpanExporter(os.environ["OTEL_TRACES_FILE"]))
        )
    trace.set_tracer_provider(provider)

    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor

    DjangoInstrumentor().instrument(excluded_urls=EXCLUDED_URLS)
    RequestsInstrumentor().instrument(excluded_urls=EXCLUDED_URLS)
    if find_spec("psycopg") and find_spec("opentelemetry.instrumentation.psycopg"):
        from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

        PsycopgInstrumentor().instrument()
    if find_spec("pymongo") and find_spec("opentelemetry.instrumentation.pymongo"):
        from opentelemetry.instrumentation.pymongo import PymongoInstrumentor

        PymongoInstrumentor().instrument()
    if find_spec("celery") and find_spec("opentelemetry.instrumentation.celery"):
        from opentelemetry.instrumentation.celery import CeleryInstrumentor

        CeleryInstrumentor().instrument()


class JsonLinesSpanExporter:
    """Appends each finished span to a file as one JSON line (one ``write`` per span, in
    append mode, so the processes of a system can share one file)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def export(self, spans: Any) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        lines = "".join(json.dumps(_span_record(span)) + "\n" for span in spans)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, lines.encode())
        finally:
            os.close(fd)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _span_record(span: Any) -> dict[str, Any]:
    context = span.get_span_context()
    return {
        "traceId": f"{context.trace_id:032x}",
        "spanId": f"{context.span_id:016x}",
        "parentId": f"{span.parent.span_id:016x}" if span.parent else None,
        "name": span.name,
        "kind": span.kind.name,
        "service": span.resource.attributes.get("service.name"),
        "start": span.start_time,
        "end": span.end_time,
        "attributes": dict(span.attributes or {}),
    }


def current_trace_context() -> dict[str, str] | None:
    """The W3C trace context of the work in progress (``{"traceparent": ...}``), or None."""
    if not ENABLED:
        return None
    from opentelemetry import propagate

    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier or None


@contextlib.contextmanager
def trace_context_attached(carrier: Any) -> Iterator[None]:
    """Run the block inside the trace whose context ``carrier`` holds (e.g. an envelope's
    ``traceContext``); a no-op when tracing is off or the carrier holds none."""
    if not ENABLED or not isinstance(carrier, dict) or not carrier:
        yield
        return
    from opentelemetry import context, propagate

    token = context.attach(propagate.extract({str(k): str(v) for k, v in carrier.items()}))
    try:
        yield
    finally:
        context.detach(token)
