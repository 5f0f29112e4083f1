"""Management commands: ensure_admin (from ecommerce_common) and prune_auth_records."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from users.models import User

pytestmark = pytest.mark.django_db


def test_ensure_admin_creates_an_admin_who_can_log_in(monkeypatch):
    monkeypatch.setenv("ADMIN_EMAIL", "Admin@Example.com")
    monkeypatch.setenv("ADMIN_PASSWORD", "an-admin-passphrase")

    call_command("ensure_admin", stdout=StringIO())

    admin = User.objects.get()
    assert (admin.email, admin.role, admin.is_staff, admin.is_superuser) == (
        "admin@example.com",
        "admin",
        True,
        True,
    )
    response = APIClient().post(
        "/users/login",
        {"email": "admin@example.com", "password": "an-admin-passphrase"},
        format="json",
    )
    assert response.status_code == 200


def test_ensure_admin_run_again_updates_the_same_admin(monkeypatch):
    monkeypatch.setenv("ADMIN_EMAIL", "admin@example.com")
    monkeypatch.setenv("ADMIN_PASSWORD", "first-admin-passphrase")
    call_command("ensure_admin", stdout=StringIO())
    monkeypatch.setenv("ADMIN_EMAIL", "ADMIN@example.com")
    monkeypatch.setenv("ADMIN_PASSWORD", "second-admin-passphrase")

    call_command("ensure_admin", stdout=StringIO())

    admin = User.objects.get()
    assert admin.check_password("second-admin-passphrase")


def test_ensure_admin_without_the_environment_fails(monkeypatch):
    monkeypatch.delenv("ADMIN_EMAIL", raising=False)
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)

    with pytest.raises(CommandError):
        call_command("ensure_admin", stdout=StringIO())

    assert not User.objects.exists()


def test_prune_auth_records_reports_what_it_deleted():
    out = StringIO()

    call_command("prune_auth_records", stdout=out)

    assert "revokedAccessTokens: 0" in out.getvalue()
