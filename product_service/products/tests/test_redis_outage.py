"""Losing Redis under a running product_service (gunicorn, two workers, REDIS_URL set): the
catalogue answers from the store, a write still lands, nothing fails or logs an ERROR; once
Redis is back the cache is shared again.

The Redis is a private redis-server of this test on a free port (never the machine's), so it
can be stopped and started again.
"""

from __future__ import annotations

import shutil
import time

import pytest
import requests

from ecommerce_common.cache import RETRY_AFTER_SECONDS
from ecommerce_common.infra import Process, free_port, wait_for_port
from ecommerce_common.testing.verify_server import VerifyServer
from products.tests.service_process import running_product_service

INTERNAL_TOKEN = "redis-outage-internal-token"

pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")


class PrivateRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.process: Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        self.process = Process(
            "redis", [*command, "--save", "", "--appendonly", "no"], cwd="/tmp"
        ).start()
        assert wait_for_port("127.0.0.1", self.port, timeout=20)

    def stop(self) -> None:
        if self.process:
            self.process.stop()


@pytest.fixture(scope="module")
def redis_server():
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def verify_server_module():
    server = VerifyServer()
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def service(redis_server, verify_server_module):
    with running_product_service(
        name="redis_outage",
        internal_token=INTERNAL_TOKEN,
        verify_url=verify_server_module.url,
        env={"REDIS_URL": redis_server.url, "CACHE_KEY_PREFIX": "outage", "LOG_LEVEL": "INFO"},
    ) as running:
        yield running


def _get(service, path: str) -> requests.Response:
    # A new connection each time: either worker may answer.
    return requests.get(f"{service.base_url}{path}", headers={"Connection": "close"}, timeout=10)


def _log_lines(service) -> list[str]:
    return service.process.log_path.read_text(errors="replace").splitlines()


def test_losing_redis_loses_only_the_cache_and_getting_it_back_shares_it_again(
    service, redis_server, verify_server_module
):
    token = verify_server_module.issue(user_id="7")
    auth = {"Authorization": f"Bearer {token}"}
    created = requests.post(
        f"{service.base_url}/product/",
        json={"title": "Lamp", "price": 9.5, "category": "Other", "quantity": 3, "imageUrl": "i"},
        headers=auth,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    path = f"/product/{created.json()['id']}"
    assert [_get(service, path).headers["X-Cache"] for _ in range(4)] == ["miss"] + ["hit"] * 3

    redis_server.stop()
    during = [_get(service, path) for _ in range(4)]
    edit = requests.patch(
        f"{service.base_url}{path}", json={"title": "Lamp, brass"}, headers=auth, timeout=10
    )
    after_edit = _get(service, path)
    ready = _get(service, "/ready")

    assert [(r.status_code, r.headers["X-Cache"]) for r in during] == [(200, "miss")] * 4
    assert edit.status_code == 200, edit.text
    assert (after_edit.status_code, after_edit.json()["title"]) == (200, "Lamp, brass")
    assert (ready.status_code, ready.json()["redis"]) == (200, "unreachable")

    redis_server.start()
    time.sleep(RETRY_AFTER_SECONDS + 0.5)  # Each worker tries Redis again after its pause.
    back = [_get(service, path) for _ in range(4)]

    assert [r.headers["X-Cache"] for r in back] == ["miss"] + ["hit"] * 3
    assert {r.json()["title"] for r in back} == {"Lamp, brass"}
    assert _get(service, "/ready").json()["redis"] == "ok"
    lines = _log_lines(service)
    assert any("WARNING" in line and "Redis cache unavailable" in line for line in lines)
    assert any("Redis cache reachable again" in line for line in lines)
    assert not [line for line in lines if " ERROR " in line or " CRITICAL " in line]
