"""Services: the rules that hold whichever interface calls them, including under races."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from users import services
from users.errors import EmailTaken, InvalidRefreshToken
from users.models import RateLimitEvent, RevokedAccessToken, User
from users.services import (
    expired_records_prune,
    rate_limit_consume,
    token_pair_issue,
    token_refresh,
    user_register,
    user_update,
)
from users.tests.factories import UserFactory

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
def test_token_refresh_of_one_token_twice_at_once_yields_one_new_pair():
    user = UserFactory()
    refresh = token_pair_issue(user=user).refresh
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt() -> None:
        try:
            barrier.wait()
            token_refresh(refresh=refresh)
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
    assert BlacklistedToken.objects.count() == 1


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
