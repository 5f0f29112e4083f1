"""Services: the rules that hold whichever interface calls them, including under races."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from users import services
from users.errors import EmailTaken, InvalidCredentials, InvalidRefreshToken
from users.models import RateLimitEvent, RevokedAccessToken, SessionTokenPair, User
from users.services import (
    TokenPair,
    expired_records_prune,
    rate_limit_consume,
    token_pair_issue,
    token_refresh,
    user_login,
    user_logout,
    user_password_set,
    user_register,
    user_sessions_revoke,
    user_update,
)
from users.tests.factories import DEFAULT_PASSWORD, UserFactory
from users.tests.helpers import jti_of

pytestmark = pytest.mark.django_db


def test_user_register_turns_an_insert_race_on_the_email_into_email_taken(monkeypatch):
    UserFactory(email="race@example.com")
    # The other request's insert lands between our check and our insert.
    monkeypatch.setattr(services, "email_is_taken", lambda **kwargs: False)

    with pytest.raises(EmailTaken):
        user_register(
            first_name="A", last_name="B", email="RACE@example.com", password="a-fine-passphrase"
        )

    assert User.objects.count() == 1


def test_user_update_turns_an_update_race_on_the_email_into_email_taken(monkeypatch):
    UserFactory(email="taken@example.com")
    user = UserFactory(email="mine@example.com")
    monkeypatch.setattr(services, "email_is_taken", lambda **kwargs: False)

    with pytest.raises(EmailTaken):
        user_update(user=user, email="taken@example.com")

    assert user.email == "mine@example.com"
    assert User.objects.filter(email="mine@example.com").exists()


def test_rate_limit_consume_counts_until_the_limit_then_answers_the_wait():
    waits = [
        rate_limit_consume(scope="test", key="k", limit=2, window_seconds=60) for _ in range(3)
    ]

    assert waits[:2] == [None, None]
    assert 0 < waits[2] <= 60
    assert RateLimitEvent.objects.filter(scope="test", key="k").count() == 2


def test_rate_limit_consume_forgets_events_older_than_the_window():
    old = timezone.now() - timedelta(seconds=120)
    RateLimitEvent.objects.bulk_create(
        [RateLimitEvent(scope="test", key="k", created_at=old) for _ in range(5)]
    )

    assert rate_limit_consume(scope="test", key="k", limit=2, window_seconds=60) is None
    assert RateLimitEvent.objects.filter(scope="test", key="k").count() == 1


def test_token_refresh_rejects_a_valid_refresh_token_that_was_never_issued_here():
    user = UserFactory()
    tokens = token_pair_issue(user=user)
    OutstandingToken.objects.all().delete()

    with pytest.raises(InvalidRefreshToken):
        token_refresh(refresh=tokens.refresh)


@pytest.mark.django_db(transaction=True)
def test_token_refresh_of_one_token_twice_at_once_yields_one_pair_and_then_ends_the_session():
    # Decided: the second of two simultaneous refreshes is reuse (the server cannot tell a
    # second tab from a thief racing its victim), so the pair the first one got is revoked too.
    user = UserFactory()
    refresh = token_pair_issue(user=user).refresh
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    issued: list[TokenPair] = []

    def attempt() -> None:
        try:
            barrier.wait()
            issued.append(token_refresh(refresh=refresh))
            outcomes.append("refreshed")
        except InvalidRefreshToken:
            outcomes.append("rejected")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["refreshed", "rejected"]
    assert OutstandingToken.objects.count() == 2
    assert BlacklistedToken.objects.count() == 2
    assert RevokedAccessToken.objects.filter(jti=jti_of(issued[0].access)).exists()
    with pytest.raises(InvalidRefreshToken):
        token_refresh(refresh=issued[0].refresh)


def test_expired_records_prune_deletes_only_what_can_no_longer_matter():
    user = UserFactory()
    now = timezone.now()
    RevokedAccessToken.objects.create(jti="old", user=user, expires_at=now - timedelta(minutes=1))
    RevokedAccessToken.objects.create(jti="live", user=user, expires_at=now + timedelta(minutes=5))
    RateLimitEvent.objects.create(scope="s", key="k", created_at=now - timedelta(days=2))
    RateLimitEvent.objects.create(scope="s", key="k", created_at=now)
    token_pair_issue(user=user)

    deleted = expired_records_prune()

    assert deleted == {"revokedAccessTokens": 1, "rateLimitEvents": 1, "refreshTokens": 0}
    assert list(RevokedAccessToken.objects.values_list("jti", flat=True)) == ["live"]
    assert RateLimitEvent.objects.count() == 1
    assert OutstandingToken.objects.count() == 1


def test_expired_records_prune_counts_expired_refresh_tokens_not_their_session_pairs():
    user = UserFactory()
    expired = token_refresh(refresh=token_pair_issue(user=user).refresh)
    OutstandingToken.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert SessionTokenPair.objects.count() == 2

    deleted = expired_records_prune()

    assert deleted["refreshTokens"] == 2
    assert not SessionTokenPair.objects.exists()
    assert not BlacklistedToken.objects.exists()
    with pytest.raises(InvalidRefreshToken):
        token_refresh(refresh=expired.refresh)


def test_token_refresh_keeps_every_pair_of_one_login_in_its_session():
    user = UserFactory()
    first = token_pair_issue(user=user)
    second = token_refresh(refresh=first.refresh)
    third = token_refresh(refresh=second.refresh)
    other_login = token_pair_issue(user=user)

    pairs = {
        raw: SessionTokenPair.objects.get(refresh_id=jti_of(raw))
        for raw in (first.refresh, second.refresh, third.refresh, other_login.refresh)
    }

    assert len({pairs[t.refresh].session_id for t in (first, second, third)}) == 1
    assert pairs[other_login.refresh].session_id != pairs[first.refresh].session_id
    assert pairs[first.refresh].access_jti == jti_of(first.access)
    assert [pairs[t.refresh].rotated_at is not None for t in (first, second, third)] == [
        True,
        True,
        False,
    ]


def test_token_refresh_of_a_token_from_before_sessions_were_recorded_starts_its_session():
    user = UserFactory()
    legacy = token_pair_issue(user=user)
    SessionTokenPair.objects.all().delete()

    rotated = token_refresh(refresh=legacy.refresh)
    with pytest.raises(InvalidRefreshToken):
        token_refresh(refresh=legacy.refresh)

    # Its reuse ended the session it started at its rotation.
    assert RevokedAccessToken.objects.filter(jti=jti_of(rotated.access)).exists()
    with pytest.raises(InvalidRefreshToken):
        token_refresh(refresh=rotated.refresh)


def test_token_refresh_reuse_after_a_logout_revokes_nothing_more():
    user = UserFactory()
    logged_out, other = token_pair_issue(user=user), token_pair_issue(user=user)
    user_logout(user=user, access_token=None, refresh=logged_out.refresh)

    with pytest.raises(InvalidRefreshToken):
        token_refresh(refresh=logged_out.refresh)

    assert token_refresh(refresh=other.refresh)


def test_user_logout_of_a_token_from_before_sessions_were_recorded_blacklists_it():
    user = UserFactory()
    legacy = token_pair_issue(user=user)
    SessionTokenPair.objects.all().delete()

    user_logout(user=user, access_token=None, refresh=legacy.refresh)

    with pytest.raises(InvalidRefreshToken):
        token_refresh(refresh=legacy.refresh)


def test_user_sessions_revoke_ends_every_session_of_that_user_only():
    user, other_user = UserFactory(), UserFactory()
    sessions = [token_pair_issue(user=user) for _ in range(2)]
    sessions.append(token_refresh(refresh=sessions[0].refresh))
    others = token_pair_issue(user=other_user)

    user_sessions_revoke(user=user)

    revoked = set(RevokedAccessToken.objects.values_list("jti", flat=True))
    assert revoked == {jti_of(t.access) for t in sessions}
    for tokens in sessions[1:]:
        with pytest.raises(InvalidRefreshToken):
            token_refresh(refresh=tokens.refresh)
    assert token_refresh(refresh=others.refresh)


def test_user_password_set_stores_the_password_and_ends_every_session():
    user = UserFactory()
    tokens = token_pair_issue(user=user)

    user_password_set(user=user, password="a-new-admin-chosen-passphrase")

    user.refresh_from_db()
    assert user.check_password("a-new-admin-chosen-passphrase")
    assert RevokedAccessToken.objects.filter(jti=jti_of(tokens.access)).exists()
    with pytest.raises(InvalidRefreshToken):
        token_refresh(refresh=tokens.refresh)


def test_user_password_set_to_none_leaves_no_usable_password():
    user = UserFactory()

    user_password_set(user=user, password=None)

    user.refresh_from_db()
    assert not user.has_usable_password()


def test_user_login_refuses_when_the_password_changed_after_it_was_checked(monkeypatch):
    user = UserFactory()
    real_authenticate = services.authenticate

    def authenticate_then_password_changes(**credentials):
        checked = real_authenticate(**credentials)
        user_password_set(user=User.objects.get(pk=user.pk), password="changed-meanwhile-123")
        return checked

    monkeypatch.setattr(services, "authenticate", authenticate_then_password_changes)

    with pytest.raises(InvalidCredentials):
        user_login(email=user.email, password=DEFAULT_PASSWORD, client_ip=None)

    assert not OutstandingToken.objects.exists()


def _wait_until_a_query_waits_for_a_lock(timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("no query waited for a lock")


@pytest.mark.django_db(transaction=True)
def test_user_sessions_revoke_waits_for_a_refresh_in_progress_and_revokes_its_new_pair(
    monkeypatch,
):
    user = UserFactory()
    tokens = token_pair_issue(user=user)
    issuing, revoke_is_waiting = threading.Event(), threading.Event()
    issued: list[TokenPair] = []
    real_issue = services.token_pair_issue

    def issue_once_the_revocation_waits(**kwargs) -> TokenPair:
        issuing.set()
        revoke_is_waiting.wait(timeout=10)
        return real_issue(**kwargs)

    monkeypatch.setattr(services, "token_pair_issue", issue_once_the_revocation_waits)

    def refresh() -> None:
        try:
            issued.append(token_refresh(refresh=tokens.refresh))
        finally:
            connection.close()

    def revoke() -> None:
        try:
            user_sessions_revoke(user=user)
        finally:
            connection.close()

    refresher = threading.Thread(target=refresh)
    refresher.start()
    assert issuing.wait(timeout=10)
    revoker = threading.Thread(target=revoke)
    revoker.start()
    try:
        _wait_until_a_query_waits_for_a_lock()
    finally:
        revoke_is_waiting.set()
        refresher.join()
        revoker.join()

    assert len(issued) == 1
    assert RevokedAccessToken.objects.filter(jti=jti_of(issued[0].access)).exists()
    with pytest.raises(InvalidRefreshToken):
        token_refresh(refresh=issued[0].refresh)
