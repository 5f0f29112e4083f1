"""Tracing is opt-in: checked in fresh interpreters, since it is decided at start."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

COMMON = Path(__file__).resolve().parents[1]

OTEL_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_TRACES_EXPORTER",
    "OTEL_TRACES_FILE",
)


def run_django(script: str, **env: str) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key not in OTEL_VARIABLES}
    prelude = "import django, sys; django.setup()\n"
    result = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(script)],
        cwd=COMMON,
        env={**clean, "DJANGO_SETTINGS_MODULE": "tests.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result


def test_without_an_exporter_nothing_of_opentelemetry_is_imported_or_added():
    run_django(
        """
        from django.test import Client
        from ecommerce_common.contracts import make_envelope
        envelope = make_envelope(event_type="order.paid", order_id="o-1", data={})
        assert Client().get("/items/3").status_code == 200
        assert "traceContext" not in envelope, envelope
        loaded = [name for name in sys.modules if name.startswith("opentelemetry")]
        assert not loaded, loaded
        """
    )


def test_with_a_file_exporter_a_trace_crosses_http_and_the_envelope(tmp_path):
    spans_file = tmp_path / "spans.jsonl"
    run_django(
        """
        import threading
        from http.server import BaseHTTPRequestHandler, HTTPServer
        from django.test import Client
        from opentelemetry import trace
        from ecommerce_common.contracts import make_envelope
        from ecommerce_common.http import ServiceClient
        from ecommerce_common.tracing import trace_context_attached

        seen = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                seen.append(self.headers.get("traceparent"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        tracer = trace.get_tracer("test")
        with tracer.start_as_current_span("place order") as parent:
            trace_id = format(parent.get_span_context().trace_id, "032x")
            ServiceClient(f"http://127.0.0.1:{server.server_port}").get("/reserve")
            envelope = make_envelope(event_type="order.paid", order_id="o-1", data={})
        assert seen[0].split("-")[1] == trace_id, seen
        assert envelope["traceContext"]["traceparent"].split("-")[1] == trace_id
        with trace_context_attached(envelope["traceContext"]):
            with tracer.start_as_current_span("worker handles the event"):
                pass
        assert Client().get("/items/3").status_code == 200
        print(trace_id)
        """,
        OTEL_TRACES_FILE=str(spans_file),
    )
    spans = [json.loads(line) for line in spans_file.read_text().splitlines()]
    by_name = {span["name"]: span for span in spans}

    parent = by_name["place order"]
    assert by_name["worker handles the event"]["traceId"] == parent["traceId"]
    assert by_name["GET"]["traceId"] == parent["traceId"]  # the outgoing requests call
    assert by_name["GET"]["kind"] == "CLIENT"
    server_spans = [span for span in spans if span["kind"] == "SERVER"]
    assert [span["name"] for span in server_spans] == ["GET items/<int:item_id>"]
    assert {span["service"] for span in spans} == {"common-tests"}
