"""Settings: a deployed configuration refuses to start without its secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SERVICE_DIR = Path(__file__).resolve().parents[2]


def django_setup(**env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, **env}
    for name, value in env.items():
        if value == "":
            environment.pop(name)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=SERVICE_DIR,
        env={**environment, "DJANGO_SETTINGS_MODULE": "user_service.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "INTERNAL_API_TOKENS", "DATABASE_URL"])
def test_settings_without_debug_fail_when_a_secret_is_missing(missing):
    result = django_setup(DJANGO_DEBUG="false", **{missing: ""})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


def test_settings_load_with_every_secret_set():
    result = django_setup(DJANGO_DEBUG="false")

    assert result.returncode == 0, result.stderr


def test_passwords_are_hashed_with_argon2_first():
    from user_service import settings as service_settings

    assert service_settings.PASSWORD_HASHERS[0] == (
        "django.contrib.auth.hashers.Argon2PasswordHasher"
    )
