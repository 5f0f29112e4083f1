"""ensure_admin (from ecommerce_common) on product_service's MongoDB-backed admin users."""

from io import StringIO

from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command


def test_ensure_admin_creates_then_resets_the_admin_and_ends_its_admin_site_sessions(monkeypatch):
    monkeypatch.setenv("ADMIN_EMAIL", "admin@example.com")
    monkeypatch.setenv("ADMIN_PASSWORD", "first-admin-passphrase")
    call_command("ensure_admin", stdout=StringIO())
    admin = get_user_model().objects.get(username="admin@example.com")
    session = SessionStore()
    session["_auth_user_id"] = str(admin.pk)
    session.create()
    call_command("ensure_admin", stdout=StringIO())  # unchanged: the session stays
    assert SessionStore().exists(session.session_key)

    monkeypatch.setenv("ADMIN_PASSWORD", "second-admin-passphrase")
    call_command("ensure_admin", stdout=StringIO())

    admin.refresh_from_db()
    assert admin.check_password("second-admin-passphrase")
    assert admin.is_superuser
    assert not SessionStore().exists(session.session_key)
