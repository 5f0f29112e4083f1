"""The shared cache across real processes: with REDIS_URL set, a seller's edit is seen at once
through every gunicorn worker of product_service, not only through the one that served it.

Each request goes over a kept-alive connection whose server end a known worker holds (read
from /proc), so the test knows which worker answered each one.
"""

from __future__ import annotations

import http.client
import json
import os
from pathlib import Path

import pytest

from ecommerce_common import infra
from launcher import config
from launcher.processes import System


def _workers(master_pid: int) -> list[int]:
    """gunicorn's worker processes: the master's children."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return sorted(int(pid) for pid in children)


def _server_socket_inode(server_port: int, client_port: int) -> str | None:
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        remote_port = int(fields[2].rsplit(":", 1)[1], 16)
        if (local_port, remote_port) == (server_port, client_port):
            return fields[9]
    return None


def _holder(pids: list[int], inode: str) -> int | None:
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


def _connection_to_each_worker(
    port: int, workers: list[int], *, attempts: int = 60
) -> dict[int, http.client.HTTPConnection]:
    """One kept-alive connection served by each worker (new connections until every worker
    has accepted one)."""
    held: dict[int, http.client.HTTPConnection] = {}
    for _ in range(attempts):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
        connection.request("GET", "/health")  # A worker accepts the connection to answer it.
        connection.getresponse().read()
        inode = _server_socket_inode(port, connection.sock.getsockname()[1])
        worker = _holder(workers, inode) if inode else None
        if worker is None or worker in held:
            connection.close()
        else:
            held[worker] = connection
        if len(held) == len(workers):
            return held
    for connection in held.values():
        connection.close()
    pytest.fail(f"could not reach every worker of {workers} in {attempts} connections")


def _call(
    connection: http.client.HTTPConnection, method: str, path: str, **kwargs
) -> tuple[int, dict, dict]:
    body = kwargs.pop("json", None)
    headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
    connection.request(
        method, path, body=json.dumps(body) if body is not None else None, headers=headers
    )
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), json.loads(response.read() or b"null")


def test_sellers_edit_is_seen_at_once_through_every_product_service_worker(api):
    system = api.system
    assert system.settings.redis_url, "the session's system runs with REDIS_URL"
    assert system.settings.web_concurrency >= 2
    workers = _workers(system.processes["product_service"].pid)
    assert len(workers) == system.settings.web_concurrency
    port = system.settings.ports["product_service"]
    _, seller_token = api.new_user()
    product = api.create_product(seller_token, title="Desk lamp")
    path = f"/product/{product['id']}"
    connections = _connection_to_each_worker(port, workers)
    try:
        # The first worker stores the answer in Redis; every other worker serves it from there.
        before = [_call(connection, "GET", path) for connection in connections.values()]
        assert [(status, headers["X-Cache"]) for status, headers, _ in before] == [
            (200, "miss")
        ] + [(200, "hit")] * (len(workers) - 1)

        # The seller edits through the last worker ...
        *_, editor = connections.values()
        status, _, edited = _call(
            editor,
            "PATCH",
            path,
            json={"title": "Desk lamp, brass"},
            headers={"Authorization": f"Bearer {seller_token}"},
        )
        assert (status, edited["title"]) == (200, "Desk lamp, brass")

        # ... and every worker shows the edit at once.
        after = {worker: _call(c, "GET", path) for worker, c in connections.items()}
        assert {worker: body["title"] for worker, (_, _, body) in after.items()} == dict.fromkeys(
            workers, "Desk lamp, brass"
        )
        assert sorted(headers["X-Cache"] for _, headers, _ in after.values()) == ["hit"] * (
            len(workers) - 1
        ) + ["miss"]
    finally:
        for connection in connections.values():
            connection.close()


def test_every_service_reports_its_redis_as_reachable_on_ready(api):
    for service in ("user_service", "product_service", "order_service"):
        response = api.call("GET", service, "/ready")
        assert response.status_code == 200
        # order_service adds the broker and its outbox backlog (it stays ready without them).
        assert response.json() | {"broker": None, "outbox": None} == {
            "status": "ready",
            "redis": "ok",
            "broker": None,
            "outbox": None,
        }


# --- how the launcher chooses (no processes started) ------------------------------------------


def test_real_mode_finds_the_machines_redis_and_passes_its_url_to_the_services(
    monkeypatch, tmp_path
):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("ECOMMERCE_PORT_BASE", raising=False)

    settings = config.from_environment(real=True, var_dir=tmp_path)
    env = System(settings).environment("product_service")

    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert (env["REDIS_URL"], env["CACHE_KEY_PREFIX"]) == (settings.redis_url, "ecommerce")


def test_real_mode_without_a_redis_runs_with_per_process_caches(monkeypatch, tmp_path):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(config, "LOCAL_REDIS_PORT", infra.free_port())

    settings = config.from_environment(real=True, var_dir=tmp_path)

    assert settings.redis_url is None
    assert "REDIS_URL" not in System(settings).environment("order_service")


def test_embedded_mode_uses_redis_only_when_redis_url_is_set(monkeypatch, tmp_path):
    for name in (
        "REDIS_URL",
        "CELERY_BROKER_URL",
        *(f"{n.upper()}_DATABASE_URL" for n in config.RELATIONAL.values()),
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ECOMMERCE_PORT_BASE", "9100")
    assert config.from_environment(var_dir=tmp_path).redis_url is None

    monkeypatch.setenv("REDIS_URL", "redis://cache.example:6379/4")
    settings = config.from_environment(var_dir=tmp_path)
    env = System(settings).environment("user_service")

    assert settings.mode == "embedded"
    assert (env["REDIS_URL"], env["CACHE_KEY_PREFIX"]) == (
        "redis://cache.example:6379/4",
        "ecommerce-9100",
    )
