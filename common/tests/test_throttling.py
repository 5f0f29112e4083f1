import threading

import pytest
from django.core.exceptions import ImproperlyConfigured

from ecommerce_common.settings import write_throttle_rates
from ecommerce_common.throttling import window_hit


@pytest.fixture
def rates(settings):
    def set_rates(**rates: str) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": rates,
            "NUM_PROXIES": 1,
        }

    return set_rates


def test_write_throttle_rates_have_defaults_a_shopper_never_meets(monkeypatch):
    rates = write_throttle_rates()
    assert rates["order_create_user"] == "30/minute"
    assert rates["order_pay_ip"] == "300/minute"
    assert set(rates) == {
        f"{scope}_{kind}"
        for scope in ("order_create", "order_pay", "product_create", "review_create")
        for kind in ("user", "ip")
    }


def test_write_throttle_rates_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("THROTTLE_ORDER_CREATE_USER_RATE", "1000/second")
    monkeypatch.setenv("THROTTLE_REVIEW_CREATE_IP_RATE", "")
    rates = write_throttle_rates()
    assert rates["order_create_user"] == "1000/second"
    assert "review_create_ip" not in rates  # empty: no limit


def test_a_malformed_rate_stops_the_service_at_start(monkeypatch):
    monkeypatch.setenv("THROTTLE_ORDER_PAY_USER_RATE", "lots")
    with pytest.raises(ImproperlyConfigured, match="THROTTLE_ORDER_PAY_USER_RATE"):
        write_throttle_rates()


def test_window_hit_lets_the_limit_through_and_then_says_how_long_to_wait():
    answers = [window_hit(key="k", limit=3, window_seconds=60) for _ in range(5)]
    assert answers[:3] == [None, None, None]
    assert all(1 <= wait <= 60 for wait in answers[3:])


def test_window_hit_under_concurrency_lets_exactly_the_limit_through():
    results: list[int | None] = []
    barrier = threading.Barrier(20)

    def hit() -> None:
        barrier.wait()
        results.append(window_hit(key="race", limit=5, window_seconds=60))

    threads = [threading.Thread(target=hit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(None) == 5


@pytest.mark.django_db
def test_a_write_over_the_users_rate_is_429_with_retry_after(client, verify_server, rates):
    rates(order_create_user="2/minute")
    headers = {"Authorization": f"Bearer {verify_server.issue(ttl=300)}"}

    statuses = [client.post("/limited", headers=headers).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    refused = client.post("/limited", headers=headers)
    assert refused.json()["code"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 60
    # Reads are never limited.
    assert client.get("/limited", headers=headers).status_code == 200


@pytest.mark.django_db
def test_another_user_has_a_budget_of_their_own(client, verify_server, rates):
    rates(order_create_user="1/minute")
    first = {"Authorization": f"Bearer {verify_server.issue(ttl=300, user_id='1')}"}
    second = {"Authorization": f"Bearer {verify_server.issue(ttl=300, user_id='2')}"}

    assert client.post("/limited", headers=first).status_code == 200
    assert client.post("/limited", headers=first).status_code == 429
    assert client.post("/limited", headers=second).status_code == 200


@pytest.mark.django_db
def test_the_ip_limit_counts_the_address_the_trusted_proxy_saw(client, verify_server, rates):
    """Behind one proxy, the last X-Forwarded-For entry is the client; the earlier ones are
    whatever the client wrote, so changing them buys no new budget."""
    rates(order_create_ip="2/minute")

    def post(user_id: str, forwarded: str) -> int:
        token = verify_server.issue(ttl=300, user_id=user_id)
        return client.post(
            "/limited",
            headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": forwarded},
        ).status_code

    assert post("1", "1.1.1.1, 203.0.113.7") == 200
    assert post("2", "2.2.2.2, 203.0.113.7") == 200
    assert post("3", "3.3.3.3, 203.0.113.7") == 429
    assert post("4", "203.0.113.8") == 200
