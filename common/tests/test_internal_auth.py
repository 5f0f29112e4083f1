import pytest

from ecommerce_common.internal_auth import token_is_valid

pytestmark = pytest.mark.django_db


def test_internal_route_without_token_is_401(client):
    response = client.get("/internal/ping")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_internal_route_with_wrong_token_is_401_and_reveals_nothing(client):
    response = client.get("/internal/ping", headers={"X-Internal-Token": "guess"})

    assert response.status_code == 401
    assert "ok" not in response.json()


@pytest.mark.parametrize("token", ["current-token", "previous-token"])
def test_internal_route_accepts_every_rotated_token(client, token):
    response = client.get("/internal/ping", headers={"X-Internal-Token": token})

    assert response.status_code == 200
    assert response.json() == {"ok": True}


def test_user_token_does_not_open_internal_route(client):
    response = client.get("/internal/ping", headers={"Authorization": "Bearer current-token"})

    assert response.status_code == 401


def test_token_is_valid_rejects_empty_and_prefixes():
    assert not token_is_valid("", ["abc"])
    assert not token_is_valid(None, ["abc"])
    assert not token_is_valid("ab", ["abc"])
    assert token_is_valid("abc", ["zzz", "abc"])
