"""Limits an honest shopper never meets, met on purpose against the real processes.

- login and password-change limits hold under concurrency: 20 wrong passwords at once, sent
  to user_service's two gunicorn workers, get at most the limit of password checks;
- cookie-authenticated writes from another site's page are refused (403, nothing changes),
  old clients without an Origin and Bearer callers are not;
- ``GET /users/logout`` only clears the cookie; revocation is ``POST``;
- the write rate limits answer 429 with ``Retry-After`` (reviews here: the run raises the
  others out of the way, tests/conftest.py);
- the cap on units per order line is 409 ``line_quantity_limit`` with nothing reserved;
- a seller cannot review their own product.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from support.loopback import session_from

USERS = "user_service"
PRODUCTS = "product_service"
ORDERS = "order_service"
EVIL = "https://evil.example.net"


def _at_once(count: int, call) -> list[int]:
    barrier = threading.Barrier(count)

    def run(n: int) -> int:
        barrier.wait(timeout=30)
        return call(n)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_user_service_runs_two_gunicorn_workers(system):
    """What the concurrency tests below rely on: requests spread over two processes."""
    assert system.environment(USERS)["WEB_CONCURRENCY"] == "2"


def test_twenty_concurrent_wrong_passwords_get_at_most_the_limit_of_checks(api, system):
    limit = int(system.environment(USERS).get("LOGIN_FAILURE_LIMIT_PER_EMAIL", "5"))
    user = api.register()
    url = api.url(USERS, "/users/login")

    def guess(n: int) -> int:
        session = session_from("127.0.0.81")  # a budget of its own for the per-IP limit
        try:
            body = {"email": user["email"], "password": f"wrong-guess-{n}"}
            return session.post(url, json=body, timeout=60).status_code
        finally:
            session.close()

    statuses = _at_once(20, guess)

    assert statuses.count(401) <= limit, statuses
    assert statuses.count(401) + statuses.count(429) == 20, statuses
    # Locked now, even with the right password, with the error body and Retry-After.
    locked = api.call(
        "POST", USERS, "/users/login", json={"email": user["email"], "password": user["password"]}
    )
    assert locked.status_code == 429
    assert locked.json()["code"] == "throttled"
    assert int(locked.headers["Retry-After"]) > 0


def test_twenty_concurrent_wrong_current_passwords_get_at_most_the_limit(api, system):
    limit = int(system.environment(USERS).get("LOGIN_FAILURE_LIMIT_PER_EMAIL", "5"))
    _, token = api.new_user()
    url = api.url(USERS, "/users/me/password")

    def guess(n: int) -> int:
        session = session_from("127.0.0.82")
        try:
            return session.post(
                url,
                headers={"Authorization": f"Bearer {token}"},
                json={"currentPassword": f"wrong-{n}", "newPassword": "N3w-and-long-enough!"},
                timeout=60,
            ).status_code
        finally:
            session.close()

    statuses = _at_once(20, guess)

    assert statuses.count(400) <= limit, statuses
    assert statuses.count(400) + statuses.count(429) == 20, statuses


# --- cookie-authenticated writes from other sites -----------------------------------------------


@pytest.fixture
def cookie_buyer(api):
    """A buyer whose token travels as the old clients' cookie, and a product to order."""
    seller_token = api.new_user()[1]
    product = api.create_product(seller_token, quantity=5)
    user, token = api.new_user()
    return user, token, product


def _with_cookie(api, service: str, method: str, path: str, token: str, **kwargs):
    headers = {"Cookie": f"userAuthToken={token}", **kwargs.pop("headers", {})}
    return api.session.request(
        method, api.url(service, path), headers=headers, timeout=15, **kwargs
    )


@pytest.mark.parametrize(
    "origin_headers",
    [{"Origin": EVIL}, {"Referer": f"{EVIL}/shop.html"}, {"Origin": "null"}],
    ids=["Origin", "Referer", "null Origin"],
)
def test_a_cookie_write_from_another_site_is_403_and_changes_nothing(
    api, cookie_buyer, origin_headers
):
    _, token, product = cookie_buyer
    refused = [
        _with_cookie(
            api, ORDERS, "POST", "/orders", token,
            headers=origin_headers, json={"items": [{"productId": product["id"], "quantity": 1}]},
        ),
        _with_cookie(
            api, USERS, "PATCH", "/users/me", token,
            headers=origin_headers, json={"firstName": "Hijacked"},
        ),
        _with_cookie(
            api, PRODUCTS, "POST", f"/product/{product['id']}/reviews", token,
            headers=origin_headers, json={"rating": 1},
        ),
    ]  # fmt: skip

    for response in refused:
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "untrusted_origin"
    assert api.available(product["id"]) == 5
    assert api.call("GET", ORDERS, "/orders", token=token).json()["count"] == 0
    assert api.call("GET", USERS, "/users/me", token=token).json()["firstName"] == "Test"
    assert api.product(product["id"])["reviewCount"] == 0


def test_a_cookie_write_without_origin_and_a_bearer_write_from_anywhere_still_work(
    api, cookie_buyer
):
    _, token, product = cookie_buyer
    body = {"items": [{"productId": product["id"], "quantity": 1}]}

    old_client = _with_cookie(api, ORDERS, "POST", "/orders", token, json=body)
    bearer = api.call("POST", ORDERS, "/orders", token=token, json=body, headers={"Origin": EVIL})
    read = _with_cookie(api, ORDERS, "GET", "/orders", token, headers={"Origin": EVIL})

    assert (old_client.status_code, bearer.status_code, read.status_code) == (201, 201, 200)


def test_get_logout_only_clears_the_cookie_and_post_logout_revokes(api):
    user, _ = api.new_user()
    token = api.login(user["email"], user["password"])

    cleared = _with_cookie(api, USERS, "GET", "/users/logout", token, headers={"Origin": EVIL})
    assert cleared.status_code == 200
    assert "userAuthToken=" in cleared.headers["Set-Cookie"]
    assert api.call("GET", USERS, "/users/me", token=token).status_code == 200

    assert api.call("POST", USERS, "/users/logout", token=token, json={}).status_code == 200
    assert api.call("GET", USERS, "/users/me", token=token).status_code == 401


# --- write limits, caps, own reviews ------------------------------------------------------------


def test_reviews_past_the_users_rate_are_429_with_retry_after(api, system):
    limit = int(system.environment(PRODUCTS)["THROTTLE_REVIEW_CREATE_USER_RATE"].split("/")[0])
    workers = int(system.environment(PRODUCTS)["WEB_CONCURRENCY"])
    seller_token = api.new_user()[1]
    products = [api.create_product(seller_token) for _ in range(limit * workers + 2)]
    _, token = api.new_user()

    answers = [
        api.call("POST", PRODUCTS, f"/product/{p['id']}/reviews", token=token, json={"rating": 4})
        for p in products
    ]

    statuses = [answer.status_code for answer in answers]
    assert set(statuses) == {201, 429}, statuses
    if system.environment(PRODUCTS).get("REDIS_URL"):
        # One count for every worker process: exactly the rate.
        assert statuses.count(201) == limit, statuses
    else:
        # Counted per process without Redis: at most the rate in each worker.
        assert limit <= statuses.count(201) <= limit * workers, statuses
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert refused.json()["code"] == "throttled"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    reviewed = {p["id"] for p, a in zip(products, answers, strict=True) if a.status_code == 201}
    for product in products:
        assert api.product(product["id"])["reviewCount"] == (product["id"] in reviewed)


def test_more_units_of_a_product_than_an_order_may_hold_is_409_and_reserves_nothing(api):
    seller_token = api.new_user()[1]
    product = api.create_product(seller_token, quantity=500)
    _, token = api.new_user()

    response = api.place_order(token, [(product["id"], 101)])

    assert response.status_code == 409, response.text
    assert response.json()["code"] == "line_quantity_limit"
    assert api.available(product["id"]) == 500
    assert api.place_order(token, [(product["id"], 100)]).status_code == 201


def test_a_seller_cannot_review_their_own_product(api):
    _, seller_token = api.new_user()
    product = api.create_product(seller_token)

    response = api.call(
        "POST", PRODUCTS, f"/product/{product['id']}/reviews", token=seller_token,
        json={"rating": 5, "title": "Best ever"},
    )  # fmt: skip

    assert response.status_code == 403
    assert response.json()["code"] == "own_product_review"
    assert api.product(product["id"])["reviewCount"] == 0
