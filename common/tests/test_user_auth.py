import time

import pytest

from ecommerce_common.user_auth import token_expiry, verify_token


class Clock:
    """``time.time`` for the verify cache, moved by hand instead of by sleeping."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr("ecommerce_common.user_auth.time", clock)
    return clock


def test_verify_token_second_call_within_window_makes_no_http_request(verify_server):
    token = verify_server.issue(ttl=300)

    first = verify_token(token)
    second = verify_token(token)

    assert first == second
    assert first.id == "42"
    assert first.role == "user"
    assert len(verify_server.calls) == 1


def test_verify_token_sends_internal_token_and_bearer(verify_server):
    token = verify_server.issue(ttl=300)

    verify_token(token)

    headers = verify_server.calls[0]
    assert headers["X-Internal-Token"] == "current-token"
    assert headers["Authorization"] == f"Bearer {token}"


def test_verify_token_never_serves_an_expired_token_from_cache(verify_server, clock):
    token = verify_server.issue(ttl=1.0)
    assert verify_token(token) is not None
    del verify_server.valid_tokens[token]  # user_service now rejects it (expired)
    assert verify_token(token) is not None  # from the cache: no second call yet
    assert len(verify_server.calls) == 1

    clock.advance(1.2)

    assert verify_token(token) is None
    assert len(verify_server.calls) == 2


def test_verify_token_cache_is_bounded_by_verify_cache_seconds(verify_server, settings, clock):
    settings.VERIFY_CACHE_SECONDS = 1
    token = verify_server.issue(ttl=300)
    verify_token(token)
    del verify_server.valid_tokens[token]  # revoked

    clock.advance(1.2)

    assert verify_token(token) is None


def test_verify_token_does_not_cache_rejections(verify_server):
    token = verify_server.issue(ttl=300)
    rejected = verify_server.valid_tokens.pop(token)

    assert verify_token(token) is None
    verify_server.valid_tokens[token] = rejected
    assert verify_token(token) is not None
    assert len(verify_server.calls) == 2


def test_token_expiry_reads_exp_and_tolerates_garbage():
    from ecommerce_common.testing.verify_server import make_token

    assert token_expiry(make_token(exp=1234.0)) == 1234.0
    assert token_expiry("not-a-jwt") is None
    assert token_expiry("a.!!!.c") is None


@pytest.mark.django_db
def test_view_accepts_bearer_token(client, verify_server):
    token = verify_server.issue(ttl=300, role="admin")

    response = client.get("/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.json() == {"id": "42", "role": "admin"}


@pytest.mark.django_db
def test_view_accepts_old_user_auth_token_cookie(client, verify_server):
    token = verify_server.issue(ttl=300)
    client.cookies["userAuthToken"] = token

    response = client.get("/me")

    assert response.status_code == 200


@pytest.mark.django_db
def test_view_rejects_unknown_token_with_401_json(client, verify_server):
    response = client.get("/me", headers={"Authorization": "Bearer forged"})

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


@pytest.mark.django_db
def test_view_answers_503_when_user_service_is_down(client, settings):
    from ecommerce_common import user_auth

    settings.USER_SERVICE_URL = "http://127.0.0.1:9"
    user_auth._user_service.cache_clear()

    response = client.get("/me", headers={"Authorization": "Bearer x.y.z"})

    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    user_auth._user_service.cache_clear()


def test_verify_cache_seconds_comes_from_the_environment_when_settings_omit_it(
    verify_server, settings, monkeypatch
):
    del settings.VERIFY_CACHE_SECONDS
    monkeypatch.setenv("VERIFY_CACHE_SECONDS", "0")
    token = verify_server.issue(ttl=300)

    verify_token(token)
    verify_token(token)

    assert len(verify_server.calls) == 2


# --- cookie-authenticated writes from other sites ----------------------------------------------


@pytest.fixture
def cookie_client(client, verify_server):
    client.cookies["userAuthToken"] = verify_server.issue(ttl=300)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example.net"},
        {"Origin": "null"},
        {"Origin": "http://shop.example.com"},  # the trusted host, but over plain http
        {"Referer": "https://evil.example.net/page?x=1"},
        {"Origin": "https://evil.example.net", "Referer": "https://shop.example.com/"},
    ],
    ids=["foreign origin", "null origin", "other scheme", "foreign referer", "origin wins"],
)
def test_a_cookie_write_from_an_untrusted_origin_is_403_and_never_runs(
    cookie_client, verify_server, method, headers
):
    response = getattr(cookie_client, method)("/me", headers=headers)

    assert response.status_code == 403
    assert response.json() == {
        "message": response.json()["message"],
        "code": "untrusted_origin",
        "errors": {},
    }
    assert verify_server.calls == []  # refused before the token was even verified


@pytest.mark.django_db
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Origin": "https://shop.example.com"},
        {"Origin": "HTTPS://Shop.Example.com"},
        {"Origin": "http://testserver"},
        {"Referer": "https://shop.example.com/cart"},
    ],
    ids=[
        "no origin (old clients)",
        "trusted",
        "trusted, any case",
        "same origin",
        "trusted referer",
    ],
)
def test_a_cookie_write_without_origin_or_from_a_trusted_one_works(cookie_client, headers):
    assert cookie_client.post("/me", headers=headers).status_code == 200


@pytest.mark.django_db
def test_a_cookie_read_from_another_site_works(cookie_client):
    assert (
        cookie_client.get("/me", headers={"Origin": "https://evil.example.net"}).status_code == 200
    )


@pytest.mark.django_db
def test_a_bearer_write_from_another_site_works(client, verify_server):
    token = verify_server.issue(ttl=300)
    response = client.post(
        "/me", headers={"Authorization": f"Bearer {token}", "Origin": "https://evil.example.net"}
    )
    assert response.status_code == 200
