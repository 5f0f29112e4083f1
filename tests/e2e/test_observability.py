"""Metrics, traces, task events and readable logs, read from the running system.

The metrics are read from each part's metrics port before and after one order's flow, and the
counters must have moved by exactly what the flow did. Traces come from a second set of the
processes (on the same stores) run with the file exporter: the spans of one order, across every
service and the worker, share one trace id.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from celery import Celery
from kombu import Connection, Exchange, Queue
from prometheus_client.parser import text_string_to_metric_families

from ecommerce_common import infra
from ecommerce_common.events import DEAD_LETTER_QUEUE
from ecommerce_common.logging import render_log_line
from launcher.config import WEB_SERVICES, free_ports
from launcher.processes import System
from support.api import Api

ROOT = Path(__file__).resolve().parents[2]
Samples = dict[tuple[str, frozenset], float]


def scrape(system, part: str) -> Samples:
    port = system.settings.metrics_ports[part]
    response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def scrape_all(system) -> dict[str, Samples]:
    return {part: scrape(system, part) for part in system.settings.metrics_ports}


def test_metrics_are_served_only_on_the_metrics_port(system):
    for service in ("user_service", "product_service", "order_service", "integration_service"):
        public = requests.get(f"{system.settings.url(service)}/metrics", timeout=10)
        assert public.status_code == 404, service
        port = system.settings.metrics_ports[service]
        assert requests.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code == 404
        assert (
            "http_requests_total"
            in requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        )


def test_an_order_flow_moves_each_counter_by_what_it_did(api, system):
    seller = api.new_user()[1]
    buyer = api.new_user()[1]
    product = api.create_product(seller, quantity=5)
    before = scrape_all(system)

    catalogue_reads = [
        api.call("GET", "product_service", f"/product/{product['id']}") for _ in "ab"
    ]
    refused = api.place_order(buyer, [(product["id"], 50)])
    assert refused.status_code == 409, refused.text
    created = api.place_order(buyer, [(product["id"], 2)])
    assert created.status_code == 201, created.text
    order_id = created.json()["id"]
    assert api.pay(buyer, order_id).status_code == 200
    api.wait_for_status(buyer, order_id, "confirmed")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        after = scrape_all(system)
        handled = moved(
            before["worker"],
            after["worker"],
            "order_events_handled_total",
            type="order.paid",
            outcome="applied",
        )
        if handled:
            break
        time.sleep(0.3)

    orders, products, users, worker = (
        (before[p], after[p])
        for p in ("order_service", "product_service", "user_service", "worker")
    )
    # Requests per route pattern (never the raw path), method and status, with their latency.
    assert moved(*orders, "http_requests_total", route="orders", method="POST", status="201") == 1
    assert moved(*orders, "http_requests_total", route="orders", method="POST", status="409") == 1
    pay = {"route": "orders/<uuid:order_id>/pay", "method": "POST"}
    assert moved(*orders, "http_requests_total", status="200", **pay) == 1
    assert moved(*orders, "http_request_duration_seconds_count", **pay) == 1
    reserve = {"route": "internal/reservations", "method": "POST"}
    assert moved(*products, "http_requests_total", status="201", **reserve) == 1
    assert moved(*products, "http_requests_total", status="409", **reserve) == 1
    commit = {"route": "internal/reservations/<str:order_id>/commit", "method": "POST"}
    assert moved(*products, "http_requests_total", status="200", **commit) == 1
    assert not any(
        name == "http_requests_total" and order_id in str(labels)
        for name, labels in after["order_service"]
    )
    # Order transitions, by status.
    for source, target in (
        ("none", "payment_pending"),
        ("payment_pending", "paid"),
        ("paid", "confirmed"),
    ):
        assert moved(*orders, "order_transitions_total", from_status=source, to_status=target) == 1
    # The worker: the paid event applied once, timed; the confirmed one is not its business.
    assert moved(*worker, "order_events_handled_total", type="order.paid", outcome="applied") == 1
    duration = {"type": "order.paid", "outcome": "applied"}
    assert moved(*worker, "order_event_handling_duration_seconds_count", **duration) == 1
    # Stock and the catalogue cache.
    assert moved(*products, "stock_reservations_refused_total", reason="insufficient_stock") == 1
    outcomes = [read.headers["X-Cache"] for read in catalogue_reads]
    for outcome in ("hit", "miss"):
        assert moved(*products, "catalogue_cache_requests_total", result=outcome) == outcomes.count(
            outcome
        )
    # Every verification of a user token is a verify-cache hit or a miss answered by user_service.
    verified = sum(
        moved(*side, "verify_cache_requests_total", result=result)
        for side in (orders, products)
        for result in ("hit", "miss")
    )
    token_requests = sum(
        moved(*orders, "http_requests_total", route=route, method=method, status=status)
        for route, method, status in (
            ("orders", "POST", "201"),
            ("orders", "POST", "409"),
            ("orders/<uuid:order_id>/pay", "POST", "200"),
            ("orders/<uuid:order_id>/status", "GET", "200"),
        )
    )
    assert verified == token_requests
    misses = sum(
        moved(*side, "verify_cache_requests_total", result="miss") for side in (orders, products)
    )
    verify = {"route": "internal/verify", "method": "GET", "status": "200"}
    assert moved(*users, "http_requests_total", **verify) == misses
    # Read at scrape time: the outbox has nothing old waiting, and the dead letters are counted.
    assert value(after["order_service"], "outbox_pending_rows", state="pending") == 0
    assert value(after["order_service"], "outbox_oldest_pending_age_seconds") < 30
    with Connection(system.settings.broker_url) as connection:
        depth = connection.default_channel.queue_declare(
            DEAD_LETTER_QUEUE, passive=True
        ).message_count
    assert value(after["worker"], "dead_letter_queue_depth", queue=DEAD_LETTER_QUEUE) == depth


def _task_event_kinds(events: Queue, *, until: str, seconds: float) -> set[str]:
    """The kinds of task event that arrive in ``events`` within ``seconds`` (or until ``until``)."""
    kinds: set[str] = set()
    deadline = time.monotonic() + seconds
    while until not in kinds and time.monotonic() < deadline:
        message = events.get(no_ack=True)
        if message is None:
            time.sleep(0.2)
            continue
        # The worker sends its task events in batches (lists) or one by one.
        payload = message.payload
        kinds.update(
            event.get("type") for event in (payload if isinstance(payload, list) else [payload])
        )
    return kinds


def test_the_worker_sends_task_events_once_enabled_and_logs_one_readable_line_per_event(
    api, system
):
    seller, buyer = api.new_user()[1], api.new_user()[1]
    product = api.create_product(seller, quantity=3)
    # Flower's broadcasts, on this system's broker (CELERY_BROKER_URL would win over broker=).
    monitor = Celery()
    monitor.conf.broker_read_url = monitor.conf.broker_write_url = system.settings.broker_url
    with Connection(system.settings.broker_url) as connection:
        events = Queue(
            f"test-events-{uuid.uuid4().hex[:8]}",
            Exchange("celeryev", type="topic"),
            routing_key="task.#",
            auto_delete=True,
            durable=False,
        )(connection.default_channel)
        events.declare()
        # Off by default: they cost CPU on every event and nobody watches.
        order_id = api.place_order(buyer, [(product["id"], 1)]).json()["id"]
        assert api.pay(buyer, order_id).status_code == 200
        api.wait_for_status(buyer, order_id, "confirmed")
        assert _task_event_kinds(events, until="task-succeeded", seconds=3) == set()

        # Flower's broadcast turns them on.
        assert monitor.control.enable_events(reply=True, timeout=10)
        try:
            order_id = api.place_order(buyer, [(product["id"], 1)]).json()["id"]
            assert api.pay(buyer, order_id).status_code == 200
            api.wait_for_status(buyer, order_id, "confirmed")
            kinds = _task_event_kinds(events, until="task-succeeded", seconds=15)
        finally:
            monitor.control.disable_events(reply=True, timeout=10)
        assert {"task-received", "task-started", "task-succeeded"} <= kinds

    log = system.settings.log_dir / "worker.log"
    deadline = time.monotonic() + 10
    record = None
    while record is None and time.monotonic() < deadline:
        for line in log.read_text().splitlines():
            if (
                line.startswith("{")
                and f'"orderId": "{order_id}"' in line
                and '"order.paid"' in line
            ):
                record = json.loads(line)
        time.sleep(0.2)
    assert record is not None, "no JSON line for the paid event"
    assert record["outcome"] == "applied"
    assert record["attempts"] == 1
    assert record["durationMs"] > 0
    assert set(record) >= {
        "time",
        "type",
        "orderId",
        "eventId",
        "outcome",
        "attempts",
        "durationMs",
    }
    rendered = render_log_line(json.dumps(record))
    assert f"order.paid order={order_id} event={record['eventId']} applied attempts=1 " in rendered
    assert rendered.endswith("ms")

    # `./manage_all.sh logs worker` shows that line, and no JSON.
    logs = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "system.py"), "logs", "worker"],
        env={**os.environ, "ECOMMERCE_VAR_DIR": str(system.settings.var_dir)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        shown = []
        deadline = time.monotonic() + 15
        while rendered not in shown and time.monotonic() < deadline:
            shown.append(logs.stdout.readline().rstrip("\n"))
    finally:
        logs.terminate()
        logs.wait(timeout=10)
    assert rendered in shown
    assert not any(line.startswith("{") for line in shown)


def test_flower_shows_the_running_worker_behind_basic_auth(system):
    port = infra.free_port()
    env = {
        **os.environ,
        "ECOMMERCE_VAR_DIR": str(system.settings.var_dir),
        "CELERY_BROKER_URL": system.settings.broker_url,
        "FLOWER_BASIC_AUTH": "ops:flower-test-password",
    }
    flower = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "system.py"), "flower", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert infra.wait_for_port("127.0.0.1", port, timeout=30)
        url = f"http://127.0.0.1:{port}/api/workers?refresh=1"
        assert requests.get(url, timeout=15).status_code == 401
        deadline = time.monotonic() + 20
        workers: dict = {}
        while not workers and time.monotonic() < deadline:
            workers = requests.get(url, auth=("ops", "flower-test-password"), timeout=15).json()
        assert any(name.startswith("worker-") for name in workers), workers
    finally:
        flower.terminate()
        flower.wait(timeout=10)


# --- traces -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def traced(system, tmp_path_factory):
    """The services and the worker once more, with the file exporter, on the session system's
    databases and SecantusDB (no second set of migrations) but a broker vhost of their own."""
    spans = tmp_path_factory.mktemp("traces") / "spans.jsonl"
    name = f"ecommerce_{os.environ.get('E2E_NAME', 'e2e')}_traced"
    settings = dataclasses.replace(
        system.settings,
        var_dir=tmp_path_factory.mktemp("traced"),
        **free_ports(),
        broker_url=infra.rabbitmq_vhost(name),
        extra_env={**system.settings.extra_env, "OTEL_TRACES_FILE": str(spans)},
    )
    traced = System(settings)
    for folder in (settings.run_dir, settings.log_dir):
        folder.mkdir(parents=True, exist_ok=True)
    try:
        for service in WEB_SERVICES:
            traced.start_service(service, wait=False)
        traced.start_worker()
        for service in WEB_SERVICES:
            infra.wait_for_http(
                f"{settings.url(service)}/ready",
                timeout=90,
                process=traced.processes[service].popen,
            )
        yield traced, spans
    finally:
        for process in traced.processes.values():  # all at once: each waits for its requests
            if process.alive():
                process.signal(signal.SIGTERM)
        traced.stop()


def read_spans(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def test_one_order_is_one_trace_from_creation_through_the_worker_to_confirmed(traced, request):
    system, spans_file = traced
    api = Api(system)
    request.addfinalizer(api.session.close)  # no keep-alive connection holds gunicorn's stop
    seller, buyer = api.new_user()[1], api.new_user()[1]
    product = api.create_product(seller, quantity=4)
    trace_id = uuid.uuid4().hex
    traceparent = {"traceparent": f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"}

    created = api.place_order(buyer, [(product["id"], 1)], headers=dict(traceparent))
    order_id = created.json()["id"]
    paid = api.call(
        "POST",
        "order_service",
        f"/orders/{order_id}/pay",
        token=buyer,
        json={"paymentToken": "tok_visa"},
        headers=dict(traceparent),
    )
    assert paid.status_code == 200
    api.wait_for_status(buyer, order_id, "confirmed")
    wanted = {
        ("order_service", "SERVER", "POST orders"),
        ("user_service", "SERVER", "GET internal/verify"),
        ("product_service", "SERVER", "POST internal/reservations"),
        ("order_service", "SERVER", "POST orders/<uuid:order_id>/pay"),
        ("order_service", "PRODUCER", "apply_async/integration.order_event"),
        ("integration_service", "CONSUMER", "run/integration.order_event"),
        ("product_service", "SERVER", "POST internal/reservations/<str:order_id>/commit"),
        ("order_service", "SERVER", "PUT internal/orders/<uuid:order_id>/status"),
    }
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        spans = [s for s in read_spans(spans_file) if s["traceId"] == trace_id]
        seen = {(s["service"], s["kind"], s["name"]) for s in spans}
        if wanted <= seen:
            break
        time.sleep(0.3)
    assert wanted <= seen, sorted(wanted - seen)
    # The stores' calls are in the same trace: PostgreSQL (psycopg) and MongoDB (pymongo).
    clients = {
        (s["service"], s["attributes"].get("db.system")) for s in spans if s["kind"] == "CLIENT"
    }
    assert ("order_service", "postgresql") in clients
    assert ("product_service", "mongodb") in clients
    assert ("integration_service", "postgresql") in clients
