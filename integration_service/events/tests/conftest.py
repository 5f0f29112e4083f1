"""Fixtures: the stand-in services, a private RabbitMQ vhost, and real worker processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kombu.pools
import pytest
from celery import Celery
from kombu import Connection

from ecommerce_common.events import DEAD_LETTER_QUEUE, ORDER_EVENT_TASK, QUEUE, integration_queues
from ecommerce_common.infra import Process, rabbitmq_vhost
from events.tests.stand_ins import OrderStandIn, ProductStandIn

SERVICE_DIR = Path(__file__).resolve().parents[2]
# One vhost and one test database per run: several people run the whole repository's tests
# on one machine, and two runs of this suite must never take each other's messages.
RUN = os.environ.get("INTEGRATION_TEST_RUN") or str(os.getpid())
VHOST = f"ecommerce_test_integration_{RUN}"
TEST_DATABASE = f"test_ecommerce_integration_{RUN}"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    from django.conf import settings

    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = TEST_DATABASE


@pytest.fixture
def product_service(settings) -> Iterator[ProductStandIn]:
    server = ProductStandIn(token=settings.INTERNAL_API_TOKENS[0])
    settings.PRODUCT_SERVICE_URL = server.url
    yield server
    server.shutdown()


@pytest.fixture
def order_service(settings) -> Iterator[OrderStandIn]:
    server = OrderStandIn(token=settings.INTERNAL_API_TOKENS[0])
    settings.ORDER_SERVICE_URL = server.url
    yield server
    server.shutdown()


@pytest.fixture
def fast_client(settings) -> None:
    """Short timeouts and no in-call retries, so failure tests run in well under a second."""
    settings.SERVICE_READ_TIMEOUT = 0.5
    settings.SERVICE_CONNECT_TIMEOUT = 0.5
    settings.SERVICE_HTTP_RETRIES = 0


# --- broker and worker ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def broker_url() -> Iterator[str]:
    """A private vhost, so no other run (of this suite or another) shares these queues."""
    for attempt in range(5):
        try:
            url = rabbitmq_vhost(VHOST)
            break
        except subprocess.CalledProcessError:
            # rabbitmqctl fails now and then when another CLI call runs at the same moment.
            if attempt == 4:
                raise
            time.sleep(1 + attempt)
    yield url
    subprocess.run(
        [shutil.which("rabbitmqctl") or "rabbitmqctl", "delete_vhost", VHOST],
        capture_output=True,
        timeout=60,
        check=False,
    )


class Broker:
    """The test's view of the vhost: publish like order_service does, inspect the queues."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.app = Celery("test-publisher", broker=url, set_as_current=False)
        self.app.conf.update(task_serializer="json", accept_content=["json"])

    def declare_and_purge(self) -> None:
        with Connection(self.url) as connection:
            channel = connection.channel()
            for queue in integration_queues():
                bound = queue(channel)
                bound.declare()
                bound.purge()

    def publish(self, *args: Any, request_id: str | None = None, **kwargs: Any) -> None:
        work_queue = integration_queues()[0]
        self.app.send_task(
            ORDER_EVENT_TASK,
            args=list(args),
            kwargs=kwargs or None,
            queue=work_queue,
            exchange=work_queue.exchange,
            routing_key=QUEUE,
            headers={"request_id": request_id} if request_id else None,
        )

    def message_count(self, queue_name: str) -> int:
        with Connection(self.url) as connection:
            channel = connection.channel()
            queue = next(q for q in integration_queues() if q.name == queue_name)(channel)
            return queue.queue_declare(passive=True).message_count

    def wait_for_messages(self, queue_name: str, count: int, *, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while (found := self.message_count(queue_name)) != count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{queue_name} holds {found} messages, expected {count}")
            time.sleep(0.1)

    def consumer_count(self, queue_name: str) -> int:
        with Connection(self.url) as connection:
            channel = connection.channel()
            queue = next(q for q in integration_queues() if q.name == queue_name)(channel)
            return queue.queue_declare(passive=True).consumer_count

    def dead_letter_count(self) -> int:
        return self.message_count(DEAD_LETTER_QUEUE)


def _reset_pool(app: Celery) -> None:
    """Drop pooled connections, so the next publish connects to the broker now configured."""
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    kombu.pools.reset()


@pytest.fixture
def broker(broker_url: str, settings, monkeypatch) -> Iterator[Broker]:
    """The vhost, emptied, with every Celery app of this process pointed at it.

    Celery lets ``CELERY_BROKER_URL`` in the environment win over its configuration,
    so the variable itself is what must change.
    """
    from integration_service.celery import app

    monkeypatch.setenv("CELERY_BROKER_URL", broker_url)
    settings.CELERY_BROKER_URL = broker_url
    _reset_pool(app)
    helper = Broker(broker_url)
    assert helper.app.conf.broker_url == broker_url
    helper.declare_and_purge()
    yield helper
    helper.declare_and_purge()
    _reset_pool(app)


def _database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def start_worker(
    transactional_db: None,
    broker: Broker,
    product_service: ProductStandIn,
    order_service: OrderStandIn,
    tmp_path: Path,
) -> Iterator[Callable[..., Process]]:
    """Start ``celery -A integration_service worker`` against the test database and vhost."""
    started: list[Process] = []

    def start(*, queue_option: bool = True, **overrides: str) -> Process:
        heartbeat = tmp_path / f"heartbeat-{len(started)}"
        env = {
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": broker.url,
            "PRODUCT_SERVICE_URL": product_service.url,
            "ORDER_SERVICE_URL": order_service.url,
            "EVENT_MAX_RETRIES": "2",
            "EVENT_RETRY_BACKOFF_SECONDS": "0.2",
            "EVENT_RETRY_BACKOFF_MAX_SECONDS": "1",
            "SERVICE_READ_TIMEOUT": "1",
            "SERVICE_HTTP_RETRIES": "0",
            "WORKER_HEARTBEAT_FILE": str(heartbeat),
            "WORKER_HEARTBEAT_INTERVAL_SECONDS": "1",
            "LOG_LEVEL": "INFO",
            "LOG_FORMAT": "json",
            **overrides,
        }
        command = [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "integration_service",
            "worker",
            *(["-Q", QUEUE] if queue_option else []),
            "--prefetch-multiplier",
            "1",
            "--concurrency",
            overrides.get("CELERY_WORKER_CONCURRENCY", "2"),
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"test-{uuid.uuid4().hex[:8]}@%h",
            "--loglevel",
            "INFO",
        ]
        process = Process(
            f"worker-{len(started)}", command, env=env, cwd=SERVICE_DIR, log_dir=tmp_path
        ).start()
        started.append(process)
        deadline = time.monotonic() + 60
        while not heartbeat.exists():  # touched once the consumer is connected and consuming
            if not process.alive() or time.monotonic() > deadline:
                raise AssertionError(f"worker did not start:\n{process.log_tail(60)}")
            time.sleep(0.1)
        process.heartbeat_file = heartbeat
        return process

    yield start
    for process in started:
        process.stop()
    for process in started:  # shown by pytest only when the test failed
        print(f"--- {process.name} ---\n{process.log_tail(200)}")


def wait_for(predicate: Callable[[], Any], *, timeout: float = 20, message: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message or "condition not met in time")
        time.sleep(0.1)
