"""Database-backed rate limits: the rate strings they read, and counts shared across processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.db import connection

from ecommerce_common.infra import free_ports, wait_for_port
from users.tests.factories import DEFAULT_PASSWORD, UserFactory
from users.throttling import parse_rate

SERVICE_DIR = Path(__file__).resolve().parents[2]
GUNICORN = [sys.executable, "-m", "gunicorn", "--workers", "1"]


@pytest.mark.parametrize(
    ("rate", "expected"),
    [("60/hour", (60, 3600)), ("5/min", (5, 60)), ("10/s", (10, 1)), ("2/day", (2, 86400))],
)
def test_parse_rate_reads_count_and_period(rate, expected):
    assert parse_rate(rate) == expected


def _test_database_url() -> str:
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def two_servers(transactional_db) -> Iterator[list[str]]:
    """Two gunicorn processes of this service on the test database."""
    environment = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "LOGIN_FAILURE_LIMIT_PER_EMAIL": "3",
        "LOG_LEVEL": "WARNING",
    }
    ports = free_ports(2)
    processes = [
        subprocess.Popen(
            [*GUNICORN, "-b", f"127.0.0.1:{port}", "user_service.wsgi:application"],
            cwd=SERVICE_DIR,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port in ports:
            assert wait_for_port("127.0.0.1", port, timeout=60)
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


def test_login_failures_counted_by_one_process_throttle_another(two_servers):
    first, second = two_servers
    user = UserFactory()
    wrong = {"email": user.email, "password": "wrong-password"}

    for _ in range(3):
        assert requests.post(f"{first}/users/login", json=wrong, timeout=30).status_code == 401
    response = requests.post(
        f"{second}/users/login",
        json={"email": user.email, "password": DEFAULT_PASSWORD},
        timeout=30,
    )

    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
