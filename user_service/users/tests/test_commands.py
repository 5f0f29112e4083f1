"""Management commands: ensure_admin (from ecommerce_common) and prune_auth_records."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from users.models import Role, User
from users.services import token_pair_issue
from users.tests.factories import AdminUserFactory, UserFactory

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


def _verify_status(access: str) -> int:
    client = APIClient(headers={"X-Internal-Token": "test-internal-token"})
    return client.get("/internal/verify", headers={"Authorization": f"Bearer {access}"}).status_code


def _admin_env(monkeypatch, password: str = "the-admin-passphrase") -> None:
    monkeypatch.setenv("ADMIN_EMAIL", "admin@example.com")
    monkeypatch.setenv("ADMIN_PASSWORD", password)
    monkeypatch.delenv("ADMIN_PROMOTE_EXISTING", raising=False)


def test_ensure_admin_refuses_to_promote_an_account_someone_registered_with_that_email(
    monkeypatch,
):
    squatter = UserFactory(email="admin@example.com")
    tokens = token_pair_issue(user=squatter)
    _admin_env(monkeypatch)

    with pytest.raises(CommandError, match="--promote-existing"):
        call_command("ensure_admin", stdout=StringIO())

    squatter.refresh_from_db()
    assert (squatter.role, squatter.is_staff, squatter.is_superuser) == (Role.USER, False, False)
    assert not squatter.check_password("the-admin-passphrase")
    assert _verify_status(tokens.access) == 200


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_ensure_admin_promotes_an_existing_account_only_when_asked_and_ends_its_sessions(
    monkeypatch, how
):
    account = UserFactory(email="admin@example.com")
    tokens = token_pair_issue(user=account)
    _admin_env(monkeypatch)
    if how == "flag":
        call_command("ensure_admin", "--promote-existing", stdout=StringIO())
    else:
        monkeypatch.setenv("ADMIN_PROMOTE_EXISTING", "true")
        call_command("ensure_admin", stdout=StringIO())

    account.refresh_from_db()
    assert (account.role, account.is_staff, account.is_superuser) == (Role.ADMIN, True, True)
    assert account.check_password("the-admin-passphrase")
    assert _verify_status(tokens.access) == 401
    refreshed = APIClient().post("/users/token/refresh", {"refresh": tokens.refresh}, format="json")
    assert refreshed.status_code == 401


def test_ensure_admin_resetting_the_password_ends_the_admins_sessions(monkeypatch):
    _admin_env(monkeypatch, "first-admin-passphrase")
    call_command("ensure_admin", stdout=StringIO())
    tokens = token_pair_issue(user=User.objects.get())

    _admin_env(monkeypatch, "second-admin-passphrase")
    call_command("ensure_admin", stdout=StringIO())

    assert _verify_status(tokens.access) == 401


def test_ensure_admin_run_again_with_the_same_password_keeps_the_sessions(monkeypatch):
    _admin_env(monkeypatch)
    call_command("ensure_admin", stdout=StringIO())
    tokens = token_pair_issue(user=User.objects.get())

    call_command("ensure_admin", stdout=StringIO())

    assert _verify_status(tokens.access) == 200


def test_ensure_admin_never_silently_reactivates_a_deactivated_admin(monkeypatch):
    AdminUserFactory(email="admin@example.com", is_active=False)
    _admin_env(monkeypatch)
    stderr = StringIO()

    call_command("ensure_admin", stdout=StringIO(), stderr=stderr)

    assert not User.objects.get().is_active
    assert "deactivated" in stderr.getvalue()
    call_command("ensure_admin", "--reactivate", stdout=StringIO())
    assert User.objects.get().is_active


def test_prune_auth_records_reports_what_it_deleted():
    out = StringIO()

    call_command("prune_auth_records", stdout=out)

    assert "revokedAccessTokens: 0" in out.getvalue()
