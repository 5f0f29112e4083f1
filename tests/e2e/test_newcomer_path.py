"""`./manage_all.sh up` with no servers configured, an order through it, and `down` leaving nothing."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import time
from pathlib import Path

import requests

from ecommerce_common import infra
from launcher.processes import alive
from support.launcher import newcomer_environment

ROOT = Path(__file__).resolve().parents[2]

# The lines that are not JSON: gunicorn's "[ERROR]", Celery's "ERROR/MainProcess", the text log
# format's "<date> <time> ERROR <logger>", a bare traceback.
PLAIN_ERROR = re.compile(
    r"\[(ERROR|CRITICAL)\]|\b(ERROR|CRITICAL)/|^\S+ \S+ (ERROR|CRITICAL) |^Traceback "
)


def periodic_tasks_done(log_dir: Path) -> set[str]:
    """The periodic tasks the worker has finished at least once."""
    done = set()
    log = log_dir / "worker.log"
    for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict) and record.get("message") == "periodic task done":
                done.add(record.get("task"))
    return done


def error_lines(log_dir: Path) -> list[str]:
    """Every line at ERROR or above in the system's logs (JSON, or the servers' own text)."""
    found = []
    for log in sorted(log_dir.glob("*.log")):
        for line in log.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if isinstance(record, dict):
                failed = record.get("level") in {"ERROR", "CRITICAL"}
            else:
                failed = bool(PLAIN_ERROR.search(line))
            if failed:
                found.append(f"{log.name}: {line}")
    return found


def test_up_in_embedded_mode_takes_an_order_and_down_stops_everything(tmp_path):
    port_base = infra.free_port_base()
    env = newcomer_environment()
    env.update(
        {
            "ECOMMERCE_VAR_DIR": str(tmp_path / "var"),
            "ECOMMERCE_PORT_BASE": str(port_base),
            # A newcomer's defaults (the test command turns logging down to WARNING, as text).
            "LOG_LEVEL": "INFO",
            "LOG_FORMAT": "json",
        }
    )
    env["ECOMMERCE_ENV_FILE"] = os.devnull  # a developer's .env is not this test's
    up = subprocess.run(
        [str(ROOT / "manage_all.sh"), "up", "--detach"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    state_file = tmp_path / "var" / "run" / "state.json"
    pids: dict[str, int] = {}
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        pids = json.loads(state_file.read_text())["processes"]
        assert {"user_service", "product_service", "order_service", "worker", "scheduler"} <= set(
            pids
        )
        assert "embedded stores" in up.stdout
        assert f"http://127.0.0.1:{port_base + 3}/api/docs" in up.stdout
        demo_email, demo_password = re.search(r"demo buyer:\s+(\S+) / (\S+)", up.stdout).groups()

        users, products, orders = (f"http://127.0.0.1:{port_base + i}" for i in (1, 2, 3))
        token = requests.post(
            f"{users}/users/login",
            json={"email": demo_email, "password": demo_password},
            timeout=10,
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        catalogue = requests.get(f"{products}/product/", timeout=10).json()
        assert catalogue["count"] >= 6
        product = catalogue["results"][0]
        order = requests.post(
            f"{orders}/orders",
            headers=headers,
            json={"items": [{"productId": product["id"], "quantity": 1}]},
            timeout=10,
        ).json()
        paid = requests.post(
            f"{orders}/orders/{order['id']}/pay",
            headers=headers,
            json={"paymentToken": "tok_visa"},
            timeout=10,
        )
        assert paid.status_code == 200, paid.text
        status = None
        for _ in range(100):
            status = requests.get(
                f"{orders}/orders/{order['id']}/status", headers=headers, timeout=10
            ).json()
            if status["orderStatus"]["status"] == "confirmed":
                break
            time.sleep(0.3)
        assert status["orderStatus"]["status"] == "confirmed", status
        # A normal run logs nothing at ERROR or above, in any part.
        # The periodic work runs on the embedded stores too: wait for each task once.
        log_dir = tmp_path / "var" / "logs"
        periodic = {"relay_outbox", "expire_orders", "expire_reservations"}
        deadline = time.monotonic() + 60
        while not periodic <= periodic_tasks_done(log_dir) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert periodic <= periodic_tasks_done(log_dir)
        errors = error_lines(log_dir)
        assert not errors, "\n".join(errors)

        again = subprocess.run(
            [str(ROOT / "manage_all.sh"), "up", "--detach"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert again.returncode == 1
        assert "already running" in again.stdout
        assert all(alive(pid) for pid in pids.values())
    finally:
        down = subprocess.run(
            [str(ROOT / "manage_all.sh"), "down"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert down.returncode == 0, down.stdout + down.stderr
    assert not any(alive(pid) for pid in pids.values())
    assert not state_file.exists()
