"""Fixtures for the users tests: users, their tokens, and clients that present them."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from users.models import User
from users.services import TokenPair, token_pair_issue
from users.tests.factories import DEFAULT_PASSWORD, UserFactory


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["users.tests.hashers.FastArgon2PasswordHasher"]


@pytest.fixture
def password() -> str:
    return DEFAULT_PASSWORD


@pytest.fixture
def user(db) -> User:
    return UserFactory()


@pytest.fixture
def tokens(user: User) -> TokenPair:
    return token_pair_issue(user=user)


@pytest.fixture
def auth_client(tokens: TokenPair) -> APIClient:
    return APIClient(headers={"Authorization": f"Bearer {tokens.access}"})
