"""The Postman collection runs green under newman against the session's running system.

newman is installed from the lock file in ``postman/`` (``npm ci``) when it is missing or is not
the pinned version; the machine needs node and npm, and the test fails, never skips, without them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
POSTMAN = ROOT / "postman"
COLLECTION = POSTMAN / "ecommerce.postman_collection.json"
NEWMAN = POSTMAN / "node_modules" / ".bin" / "newman"
INSTALL_TIMEOUT = 600
RUN_TIMEOUT = 300


def pinned_newman_version() -> str:
    return json.loads((POSTMAN / "package.json").read_text())["devDependencies"]["newman"]


def installed_newman_version() -> str | None:
    package = POSTMAN / "node_modules" / "newman" / "package.json"
    if not NEWMAN.exists() or not package.exists():
        return None
    return json.loads(package.read_text())["version"]


def ensure_newman() -> Path:
    """newman from postman/package-lock.json, installed with ``npm ci`` unless already there."""
    if installed_newman_version() == pinned_newman_version():
        return NEWMAN
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.fail(
            "the Postman run needs node and npm (to install newman from postman/package-lock.json);"
            " install Node.js 18+ with npm, e.g. `apt-get install nodejs npm`"
        )
    result = subprocess.run(
        [npm, "ci", "--prefix", str(POSTMAN), "--no-audit", "--no-fund"],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, (
        f"npm ci failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    assert installed_newman_version() == pinned_newman_version(), "npm ci did not install newman"
    return NEWMAN


def environment(system, api) -> dict:
    """A Postman environment for this system: its four URLs and the admin login."""
    urls = {
        "userUrl": system.settings.url("user_service"),
        "productUrl": system.settings.url("product_service"),
        "orderUrl": system.settings.url("order_service"),
        "integrationUrl": system.settings.url("integration_service"),
    }
    values = {
        **urls,
        "adminEmail": api.admin_email,
        "adminPassword": api.admin_password,
        "viaIngress": "false",
    }
    return {
        "name": "ecommerce e2e",
        "values": [
            {"key": k, "value": v, "type": "default", "enabled": True} for k, v in values.items()
        ],
        "_postman_variable_scope": "environment",
    }


def test_postman_collection_runs_green_under_newman(system, api, tmp_path):
    newman = ensure_newman()
    environment_file = tmp_path / "e2e.postman_environment.json"
    environment_file.write_text(json.dumps(environment(system, api), indent=2))
    report_file = tmp_path / "newman-report.json"

    try:
        result = subprocess.run(
            [
                str(newman),
                "run",
                str(COLLECTION),
                "--environment",
                str(environment_file),
                "--bail",
                "--color",
                "off",
                "--timeout-request",
                "20000",
                "--reporters",
                "cli,json",
                "--reporter-json-export",
                str(report_file),
            ],
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
            cwd=POSTMAN,
        )
    except subprocess.TimeoutExpired as exc:
        output = (
            (exc.stdout or b"").decode(errors="replace")
            if isinstance(exc.stdout, bytes)
            else exc.stdout or ""
        )
        pytest.fail(f"newman did not finish within {RUN_TIMEOUT} s:\n{output[-20000:]}")

    output = f"{result.stdout}\n{result.stderr}"
    assert result.returncode == 0, f"newman failed (exit {result.returncode}):\n{output[-20000:]}"
    stats = json.loads(report_file.read_text())["run"]["stats"]
    assert stats["assertions"]["failed"] == 0, output[-20000:]
    assert stats["requests"]["failed"] == 0, output[-20000:]
    # The whole collection ran (nothing skipped by --bail or a missing folder).
    collection = json.loads(COLLECTION.read_text())
    defined = sum(len(folder["item"]) for folder in collection["item"])
    assert stats["requests"]["total"] >= defined, output[-20000:]
