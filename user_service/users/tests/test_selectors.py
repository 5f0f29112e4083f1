"""Selectors: email availability and the user behind an access token."""

from __future__ import annotations

import pytest

from users.errors import InvalidToken
from users.selectors import access_token_authenticate, email_is_taken
from users.services import token_pair_issue
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_email_is_taken_ignores_letter_case_and_can_exclude_the_owner():
    owner = UserFactory(email="owner@example.com")

    assert email_is_taken(email=" OWNER@Example.com ")
    assert not email_is_taken(email="OWNER@example.com", exclude_user_id=owner.pk)
    assert not email_is_taken(email="nobody@example.com")


def test_access_token_authenticate_answers_the_user_and_the_token():
    user = UserFactory()
    raw = token_pair_issue(user=user).access

    verified = access_token_authenticate(raw_token=raw)

    assert verified.user == user
    assert verified.token["user_id"] == str(user.pk)


def test_access_token_authenticate_rejects_the_token_of_a_deleted_user():
    user = UserFactory()
    raw = token_pair_issue(user=user).access
    user.delete()

    with pytest.raises(InvalidToken):
        access_token_authenticate(raw_token=raw)
