"""Cross-service tests: the real processes, driven only over HTTP.

The session's system runs in real mode (PostgreSQL databases of its own, a
private RabbitMQ vhost, SecantusDB, the machine's Redis under a key prefix of
its own) on free ports, through the same launcher
as ``./manage_all.sh up``.
"""

from __future__ import annotations

import os
import secrets

import pytest

from ecommerce_common import infra
from ecommerce_common.settings import write_rates_all
from launcher.config import Settings, free_ports
from launcher.processes import System
from support.api import Api

# Short windows so expiry and retries are observable within a test run.
FAST = {
    "ORDER_PAYMENT_WINDOW_SECONDS": "6",
    # Orders expire fast; reservations outlive them, so a fault test's outage never loses one.
    "RESERVATION_GRACE_SECONDS": "120",
    "RELAY_OUTBOX_INTERVAL_SECONDS": "2",
    "EXPIRE_ORDERS_INTERVAL_SECONDS": "2",
    "EXPIRE_RESERVATIONS_INTERVAL_SECONDS": "3",
    "REPAIR_STOCK_INTERVAL_SECONDS": "3",
    "EVENT_MAX_RETRIES": "4",
    "EVENT_RETRY_BACKOFF_MAX_SECONDS": "2",
    # Every test user registers from 127.0.0.1.
    "THROTTLE_REGISTER_RATE": "100000/hour",
    # ... and writes from there: the write rate limits stay out of the way, except the
    # reviews' per-user rate, which tests/e2e/test_abuse_limits.py meets.
    **write_rates_all("100000/minute"),
    "THROTTLE_REVIEW_CREATE_USER_RATE": "20/minute",
    # The access matrix's owner and the fault tests' buyers hold many unpaid orders at once;
    # the open-orders cap is order_service's own (its tests meet it under concurrency).
    "ORDER_MAX_OPEN_PER_USER": "100000",
    "LOG_LEVEL": "INFO",
    "LOG_FORMAT": "json",
}


def real_settings(tmp_path_factory: pytest.TempPathFactory, name: str, **overrides) -> Settings:
    return Settings(
        var_dir=tmp_path_factory.mktemp(name),
        mode="real",
        **free_ports(),
        database_prefix=f"ecommerce_{name}_",
        broker_url=infra.rabbitmq_vhost(f"ecommerce_{name}"),
        postgres_url=os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432"),
        # The machine's Redis, in the tests' database, under a prefix of this system's own.
        redis_url=infra.redis_url_for_tests(),
        cache_key_prefix=f"ecommerce_{name}_{secrets.token_hex(4)}",
        extra_env={**FAST, **overrides},
        quiet=True,
    )


def running_system(settings: Settings):
    system = System(settings)
    system.drop_postgres_databases()
    try:
        system.prepare()
        system.start()
        # The worker serves its metrics once it has joined the broker: the tests start then.
        worker = settings.metrics_ports["worker"]
        if not infra.wait_for_port("127.0.0.1", worker, timeout=60):
            raise infra.InfrastructureError(f"the worker's metrics port {worker} never opened")
    except BaseException:
        system.stop()
        for process in system.processes.values():
            print(process.log_tail())
        raise
    return system


@pytest.fixture(scope="session")
def system(tmp_path_factory):
    # E2E_NAME keeps concurrent runs (databases, vhost) apart on a shared machine.
    system = running_system(real_settings(tmp_path_factory, os.environ.get("E2E_NAME", "e2e")))
    yield system
    system.stop()
    system.drop_postgres_databases()


@pytest.fixture(scope="session")
def api(system) -> Api:
    return Api(system)


def pytest_runtest_makereport(item, call):
    """On failure, show the tail of every process's log."""
    if call.when == "call" and call.excinfo is not None:
        system = item.funcargs.get("system")
        if system is not None:
            for name, process in system.processes.items():
                item.add_report_section("call", f"log {name}", process.log_tail(30))
