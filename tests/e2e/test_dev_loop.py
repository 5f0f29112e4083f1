"""`./manage_all.sh SERVICE COMMAND` uses the stores, secrets and ports `up` uses, and `.env`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import requests

from ecommerce_common import infra
from support.launcher import newcomer_environment

ROOT = Path(__file__).resolve().parents[2]
COUNT_PRODUCTS = "from products.models import Product; print('products:', Product.objects.count())"


def _run(env: dict[str, str], *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(ROOT / "manage_all.sh"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"{args}: {result.stdout[-2000:]}{result.stderr[-3000:]}"
    return result


def _login(base_url: str, email: str, password: str) -> requests.Response:
    return requests.post(
        f"{base_url}/users/login", json={"email": email, "password": password}, timeout=10
    )


def test_an_admin_made_by_a_manage_command_and_runserver_serve_the_system_that_up_starts(
    tmp_path,
):
    port_base = infra.free_port_base()
    users = f"http://127.0.0.1:{port_base + 1}"
    var_dir = tmp_path / "var"
    env_file = tmp_path / ".env"
    # The port base comes from .env only; the var dir is in both, and the real environment wins.
    env_file.write_text(
        f"ECOMMERCE_PORT_BASE={port_base}\nECOMMERCE_VAR_DIR={tmp_path / 'from-dotenv'}\n"
    )
    env = newcomer_environment("ECOMMERCE_PORT_BASE", "DJANGO_DEBUG")
    env.update({"ECOMMERCE_VAR_DIR": str(var_dir), "ECOMMERCE_ENV_FILE": str(env_file)})
    admin = {"email": "dev-loop-admin@example.com", "password": "Dev-loop-Passw0rd"}

    _run(env, "user_service", "migrate", "--noinput", "-v", "0")
    _run(
        {**env, "ADMIN_EMAIL": admin["email"], "ADMIN_PASSWORD": admin["password"]},
        "user_service",
        "ensure_admin",
    )
    assert (var_dir / "users.sqlite3").is_file()
    assert not (tmp_path / "from-dotenv").exists()

    runserver = subprocess.Popen(
        [str(ROOT / "manage_all.sh"), "user_service", "runserver", "--noreload"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        infra.wait_for_http(f"{users}/ready", timeout=90, process=runserver)
        login = _login(users, **admin)
        assert login.status_code == 200, login.text
        token = json.loads((var_dir / "secrets.json").read_text())["INTERNAL_API_TOKENS"]
        verified = requests.get(
            f"{users}/internal/verify",
            headers={"X-Internal-Token": token, "Authorization": f"Bearer {login.json()['token']}"},
            timeout=10,
        )
        assert verified.status_code == 200, verified.text
        assert verified.json()["email"] == admin["email"]
    finally:
        os.killpg(runserver.pid, signal.SIGTERM)
        runserver.wait(timeout=30)

    try:
        up = _run(env, "up", "--detach")
        assert f"{users}/api/docs" in up.stdout
        assert _login(users, **admin).status_code == 200
        while_up = _run(env, "product_service", "shell", "-c", COUNT_PRODUCTS)
        assert "products: 6" in while_up.stdout, while_up.stdout
    finally:
        _run(env, "down", timeout=120)

    # Down, a product_service command starts SecantusDB on up's port and data, and stops it.
    while_down = _run(env, "product_service", "shell", "-c", COUNT_PRODUCTS)
    assert "products: 6" in while_down.stdout, while_down.stdout
    time.sleep(0.5)
    assert not infra.port_open("127.0.0.1", port_base + 5)
    assert not (tmp_path / "from-dotenv").exists()
