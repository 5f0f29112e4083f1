"""Fixtures for product_service's tests: API clients acting as sellers, buyers and admins."""

import pytest
from rest_framework.test import APIClient

SELLER_ID = "7"
OTHER_USER_ID = "8"
ADMIN_ID = "1"


def _client_for(token: str) -> APIClient:
    return APIClient(headers={"Authorization": f"Bearer {token}"})


@pytest.fixture(autouse=True)
def _database(db):
    """Every test here talks to the throwaway MongoDB database."""


@pytest.fixture
def seller_client(verify_server) -> APIClient:
    return _client_for(verify_server.issue(user_id=SELLER_ID))


@pytest.fixture
def other_client(verify_server) -> APIClient:
    return _client_for(verify_server.issue(user_id=OTHER_USER_ID))


@pytest.fixture
def admin_client(verify_server) -> APIClient:
    return _client_for(verify_server.issue(user_id=ADMIN_ID, role="admin"))
