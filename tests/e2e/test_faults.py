"""Faults under paid orders: the broker, the worker, product_service and PostgreSQL failing.

Each test audits the stores afterwards: every order ends in one final state,
every event is applied once, and stock adds up.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from celery import Celery

from ecommerce_common import infra
from ecommerce_common.events import EXCHANGE, ORDER_EVENT_TASK, QUEUE, integration_queues
from support.proxy import TcpProxy
from support.stores import Stores

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stores(system) -> Stores:
    return Stores(system)


@pytest.fixture
def seller(api) -> str:
    return api.new_user()[1]


@pytest.fixture
def buyer(api) -> str:
    return api.new_user()[1]


def place_and_pay(api, token: str, product_id: str, count: int) -> list[str]:
    order_ids = []
    for _ in range(count):
        created = api.place_order(token, [(product_id, 1)])
        assert created.status_code == 201, created.text
        order_ids.append(created.json()["id"])
        paid = api.pay(token, order_ids[-1])
        assert paid.status_code == 200, paid.text
    return order_ids


def assert_each_confirmed_once(
    api, stores: Stores, token: str, order_ids: list[str], *, timeout: float = 120
) -> None:
    for order_id in order_ids:
        api.wait_for_status(token, order_id, "confirmed", timeout=timeout)
    for order_id in order_ids:
        assert stores.transitions(order_id) == ["payment_pending", "paid", "confirmed"]
        # The worker records "applied" just after its last HTTP call confirmed the order.
        paid = wait_for_outcome(stores, order_id, "order.paid", "applied")
        assert len(paid) == 1, paid
        # order.paid was published; each other event too, or never queued at all (no worker
        # task consumes its type).
        states = {kind: state for kind, state, _ in stores.outbox(order_id)}
        assert states["order.paid"] == "sent", states
        assert set(states.values()) <= {"sent", "not_routed"}, states


def wait_for_outcome(
    stores: Stores, order_id: str, event_type: str, outcome: str, timeout: float = 15
):
    deadline = time.monotonic() + timeout
    while True:
        rows = [row for row in stores.handled(order_id) if row[0] == event_type]
        if (rows and rows[0][1] == outcome) or time.monotonic() > deadline:
            assert rows, f"no {event_type} recorded for {order_id}"
            assert rows[0][1] == outcome, rows
            return rows
        time.sleep(0.2)


def restart_worker(system, *, kill: bool = False) -> None:
    worker = system.processes["worker"]
    if kill:
        worker.signal(signal.SIGKILL)
        worker.popen.wait(timeout=10)
    else:
        worker.stop()
    system.start_worker()


def test_same_event_delivered_twice_changes_stock_and_status_once(
    api, stores, seller, buyer, system, monkeypatch
):
    product = api.create_product(seller, quantity=5)
    [order_id] = place_and_pay(api, buyer, product["id"], 1)
    assert_each_confirmed_once(api, stores, buyer, [order_id])
    stock_before = stores.stock(product["id"])
    paid_envelope = next(env for kind, _, env in stores.outbox(order_id) if kind == "order.paid")

    # Celery prefers CELERY_BROKER_URL from the environment over its own argument.
    monkeypatch.setenv("CELERY_BROKER_URL", system.settings.broker_url)
    publisher = Celery(broker=system.settings.broker_url)
    publisher.conf.update(task_serializer="json", accept_content=["json"])
    publisher.send_task(
        ORDER_EVENT_TASK,
        args=[paid_envelope],
        exchange=EXCHANGE,
        routing_key=QUEUE,
        declare=integration_queues(),
    )

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        paid = [row for row in stores.handled(order_id) if row[0] == "order.paid"]
        if paid and paid[0][3] == 1:
            break
        time.sleep(0.3)
    assert paid[0][3] == 1, "the second delivery was not seen"
    assert paid[0][1] == "applied"
    assert stores.stock(product["id"]) == stock_before == {"available": 4, "reserved": 0, "sold": 1}
    assert stores.transitions(order_id) == ["payment_pending", "paid", "confirmed"]


@pytest.fixture
def broker_outage_for_order_service(system):
    """order_service reaches RabbitMQ through a proxy the test closes (the outage) and reopens;
    the worker and every other user of the machine's RabbitMQ are unaffected."""
    url = urlsplit(system.settings.broker_url)
    proxy = TcpProxy(url.hostname, url.port or 5672).open()
    credentials = url.netloc.rpartition("@")[0]
    proxied = urlunsplit(url._replace(netloc=f"{credentials}@127.0.0.1:{proxy.port}"))
    system.processes["order_service"].stop()
    system.start_service(
        "order_service",
        env={**system.environment("order_service"), "CELERY_BROKER_URL": proxied},
    )
    try:
        yield proxy
    finally:
        system.processes["order_service"].stop()
        system.start_service("order_service")
        proxy.close()


def test_orders_are_taken_and_paid_while_the_broker_is_down_and_each_event_is_published_once(
    api, stores, seller, buyer, system, broker_outage_for_order_service
):
    proxy = broker_outage_for_order_service
    product = api.create_product(seller, quantity=10)
    proxy.close()

    order_ids = place_and_pay(api, buyer, product["id"], 5)
    ready = requests.get(f"{system.settings.url('order_service')}/ready", timeout=10)
    assert ready.status_code == 200, ready.text
    assert ready.json()["broker"] != "ok"
    assert ready.json()["outbox"]["pending"] >= len(order_ids)  # at least each order.paid
    for order_id in order_ids:
        assert api.order_status(buyer, order_id)["orderStatus"]["status"] == "paid"
        states = {state for _, state, _ in stores.outbox(order_id)}
        assert "pending" in states, states
        assert "sent" not in states, states

    proxy.open()

    assert_each_confirmed_once(api, stores, buyer, order_ids, timeout=180)
    for order_id in order_ids:
        published = sorted(kind for kind, state, _ in stores.outbox(order_id) if state == "sent")
        assert "order.paid" in published
        # Every published event reached the worker exactly once: one record each, no repeat.
        deadline = time.monotonic() + 30
        while len(stores.handled(order_id)) < len(published) and time.monotonic() < deadline:
            time.sleep(0.3)
        handled = stores.handled(order_id)
        assert sorted(kind for kind, *_ in handled) == published, handled
        assert all(duplicates == 0 for _, _, _, duplicates in handled)
    assert stores.stock(product["id"]) == {"available": 5, "reserved": 0, "sold": 5}
    ready = requests.get(f"{system.settings.url('order_service')}/ready", timeout=10).json()
    assert ready["broker"] == "ok"


def test_worker_killed_repeatedly_under_load_loses_and_repeats_nothing(
    api, stores, seller, buyer, system
):
    product = api.create_product(seller, quantity=30)
    system.processes["worker"].stop()
    order_ids = place_and_pay(api, buyer, product["id"], 20)

    system.start_worker()
    for pause in (1.0, 1.5, 2.0):
        time.sleep(pause)
        restart_worker(system, kill=True)

    assert_each_confirmed_once(api, stores, buyer, order_ids, timeout=180)
    assert stores.stock(product["id"]) == {"available": 10, "reserved": 0, "sold": 20}


def test_worker_retries_while_product_service_is_down_and_completes_when_it_returns(
    api, stores, seller, buyer, system
):
    product = api.create_product(seller, quantity=3)
    system.processes["worker"].stop()
    [order_id] = place_and_pay(api, buyer, product["id"], 1)
    system.processes["product_service"].stop()
    try:
        system.start_worker()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            handled = [row for row in stores.handled(order_id) if row[0] == "order.paid"]
            if handled and handled[0][2] >= 2:
                break
            time.sleep(0.3)
        assert handled[0][2] >= 2, f"no retry seen: {handled}"
    finally:
        system.start_service("product_service")

    assert_each_confirmed_once(api, stores, buyer, [order_id])
    assert stores.stock(product["id"]) == {"available": 2, "reserved": 0, "sold": 1}


def test_event_past_its_last_retry_is_dead_lettered_and_replay_finishes_it(
    api, stores, seller, buyer, system
):
    product = api.create_product(seller, quantity=3)
    system.processes["worker"].stop()
    [order_id] = place_and_pay(api, buyer, product["id"], 1)
    system.processes["product_service"].stop()
    try:
        system.start_worker()
        wait_for_outcome(stores, order_id, "order.paid", "dead", timeout=90)
    finally:
        system.start_service("product_service")
    assert api.order_status(buyer, order_id)["orderStatus"]["status"] == "paid"

    paid_event = next(
        env["eventId"] for kind, _, env in stores.outbox(order_id) if kind == "order.paid"
    )
    env = {**os.environ, **system.environment("integration_service")}
    replay = subprocess.run(
        [sys.executable, "manage.py", "replay_dead_letters", "--event-id", paid_event],
        cwd=ROOT / "integration_service",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert replay.returncode == 0, replay.stderr
    assert f"replayed {paid_event}" in replay.stdout
    assert "1 dead letter(s) replayed" in replay.stdout

    api.wait_for_status(buyer, order_id, "confirmed", timeout=60)
    assert stores.stock(product["id"]) == {"available": 2, "reserved": 0, "sold": 1}
    assert stores.transitions(order_id) == ["payment_pending", "paid", "confirmed"]


def test_200_concurrent_buyers_for_the_last_10_units(api, stores, seller):
    product = api.create_product(seller, quantity=10)
    with ThreadPoolExecutor(max_workers=16) as pool:
        tokens = list(pool.map(lambda _: api.new_user()[1], range(200)))

    start = threading.Barrier(50)

    def buy(token: str) -> int:
        session = requests.Session()
        with contextlib.suppress(threading.BrokenBarrierError):
            start.wait(timeout=30)
        response = session.post(
            api.url("order_service", "/orders"),
            headers={"Authorization": f"Bearer {token}"},
            json={"items": [{"productId": product["id"], "quantity": 1}]},
            timeout=60,
        )
        return response.status_code

    lowest = {"available": 10}

    def watch(stop: threading.Event) -> None:
        while not stop.is_set():
            lowest["available"] = min(lowest["available"], stores.stock(product["id"])["available"])
            time.sleep(0.05)

    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(stop,))
    watcher.start()
    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(buy, tokens))
    stop.set()
    watcher.join()

    assert statuses.count(201) == 10
    assert statuses.count(409) == 190
    assert lowest["available"] >= 0
    stock = stores.stock(product["id"])
    assert stock == {"available": 0, "reserved": 10, "sold": 0}
    assert api.available(product["id"]) == 0


def test_postgresql_restart_under_load_loses_no_order(api, stores, seller, buyer, system):
    product = api.create_product(seller, quantity=200)
    accepted: list[str] = []
    refused: list[int] = []
    stop = threading.Event()

    def shop() -> None:
        session = requests.Session()
        while not stop.is_set():
            try:
                response = session.post(
                    api.url("order_service", "/orders"),
                    headers={"Authorization": f"Bearer {buyer}"},
                    json={"items": [{"productId": product["id"], "quantity": 1}]},
                    timeout=20,
                )
            except requests.RequestException:
                refused.append(0)
                continue
            if response.status_code == 201:
                accepted.append(response.json()["id"])
            else:
                refused.append(response.status_code)
            time.sleep(0.05)

    version = sorted(os.listdir("/etc/postgresql"))[-1]
    shopper = threading.Thread(target=shop)
    shopper.start()
    try:
        time.sleep(1)
        subprocess.run(
            ["pg_ctlcluster", version, "main", "stop", "-m", "fast"], check=True, timeout=120
        )
        down_ready = {
            service: requests.get(f"{system.settings.url(service)}/ready", timeout=10).status_code
            for service in ("user_service", "order_service", "integration_service")
        }
        time.sleep(2)
    finally:
        subprocess.run(["pg_ctlcluster", version, "main", "start"], check=True, timeout=120)
        infra.wait_for_port("127.0.0.1", 5432, timeout=60)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        states = [
            requests.get(f"{system.settings.url(service)}/ready", timeout=10).status_code
            for service in ("user_service", "order_service", "integration_service")
        ]
        if states == [200, 200, 200]:
            break
        time.sleep(0.5)
    time.sleep(2)
    stop.set()
    shopper.join(timeout=60)

    assert down_ready == {"user_service": 503, "order_service": 503, "integration_service": 503}
    assert states == [200, 200, 200]
    assert all(status in (0, 503) for status in refused), refused
    assert accepted, "no order was accepted around the restart"
    for order_id in accepted:
        assert api.order_status(buyer, order_id)["orderStatus"]["status"] in {
            "payment_pending",
            "expired",
        }
    held = stores.stock(product["id"])
    assert held["available"] + held["reserved"] + held["sold"] == 200
    [order_id] = place_and_pay(api, buyer, product["id"], 1)
    assert_each_confirmed_once(api, stores, buyer, [order_id])
