"""AccessTokenAuthentication: where the token is read from and which one wins."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_the_authorization_header_wins_over_the_cookie(tokens):
    client = APIClient(headers={"Authorization": "Bearer not-a-token"})
    client.cookies["userAuthToken"] = tokens.access

    response = client.get("/users/me")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_non_bearer_authorization_header_falls_back_to_the_cookie(tokens, user):
    client = APIClient(headers={"Authorization": "Basic dXNlcjpwYXNz"})
    client.cookies["userAuthToken"] = tokens.access

    response = client.get("/users/me")

    assert response.status_code == 200
    assert response.json()["id"] == str(user.pk)
