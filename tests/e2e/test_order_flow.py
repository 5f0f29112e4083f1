"""The order's whole life across the four services, the worker and RabbitMQ."""

from __future__ import annotations

import pytest


@pytest.fixture
def seller_token(api) -> str:
    return api.new_user()[1]


@pytest.fixture
def buyer(api) -> tuple[dict, str]:
    return api.new_user()


def test_paid_order_is_confirmed_and_its_stock_committed(api, seller_token, buyer):
    _, token = buyer
    product = api.create_product(seller_token, quantity=5, price=19.99)

    created = api.place_order(token, [(product["id"], 2)])
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["status"] == "payment_pending"
    assert order["totalAmount"] == 39.98
    assert order["items"] == [
        {"productId": product["id"], "title": product["title"], "unitPrice": 19.99, "quantity": 2}
    ]
    assert api.available(product["id"]) == 3

    paid = api.pay(token, order["id"])
    assert paid.status_code == 200, paid.text

    status = api.wait_for_status(token, order["id"], "confirmed")
    assert status["orderStatus"]["label"] == "order confirmed"
    assert [h["to"] for h in status["history"]] == ["payment_pending", "paid", "confirmed"]
    assert api.available(product["id"]) == 3
    reservation = api.internal("GET", "product_service", f"/internal/reservations/{order['id']}")
    if reservation.status_code == 200:
        assert reservation.json()["status"] == "committed"


def test_declined_payment_fails_the_order_and_releases_stock(api, seller_token, buyer):
    _, token = buyer
    product = api.create_product(seller_token, quantity=4)
    order = api.place_order(token, [(product["id"], 3)]).json()
    assert api.available(product["id"]) == 1

    declined = api.pay(token, order["id"], "tok_chargeDeclined")

    assert declined.status_code == 402, declined.text
    assert declined.json()["code"] == "payment_declined"
    status = api.wait_for_status(token, order["id"], "payment_failed")
    assert status["orderStatus"]["label"] == "payment failed"
    api.wait_for_available(product["id"], 4)


def test_cancel_before_payment_releases_stock(api, seller_token, buyer):
    _, token = buyer
    product = api.create_product(seller_token, quantity=2)
    order = api.place_order(token, [(product["id"], 2)]).json()
    assert api.available(product["id"]) == 0

    cancelled = api.call("POST", "order_service", f"/orders/{order['id']}/cancel", token=token)

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    api.wait_for_available(product["id"], 2)


def test_cancel_after_payment_refunds_and_returns_stock(api, seller_token, buyer):
    _, token = buyer
    product = api.create_product(seller_token, quantity=3)
    order = api.place_order(token, [(product["id"], 1)]).json()
    assert api.pay(token, order["id"]).status_code == 200

    cancelled = api.call("POST", "order_service", f"/orders/{order['id']}/cancel", token=token)

    if cancelled.status_code == 409:  # the worker confirmed it first: confirmed orders stay
        assert cancelled.json()["code"] == "illegal_transition"
        api.wait_for_status(token, order["id"], "confirmed")
        assert api.available(product["id"]) == 2
        return
    assert cancelled.status_code == 200, cancelled.text
    history = api.wait_for_status(token, order["id"], "cancelled")["history"]
    assert history[-1]["reason"]
    api.wait_for_available(product["id"], 3)


def test_cancelling_a_confirmed_order_is_409(api, seller_token, buyer):
    _, token = buyer
    product = api.create_product(seller_token, quantity=3)
    order = api.place_order(token, [(product["id"], 1)]).json()
    api.pay(token, order["id"])
    api.wait_for_status(token, order["id"], "confirmed")

    response = api.call("POST", "order_service", f"/orders/{order['id']}/cancel", token=token)

    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"
    assert api.order_status(token, order["id"])["orderStatus"]["status"] == "confirmed"


def test_unpaid_order_expires_and_its_stock_returns(api, seller_token, buyer):
    _, token = buyer
    product = api.create_product(seller_token, quantity=2)
    order = api.place_order(token, [(product["id"], 2)]).json()
    assert api.available(product["id"]) == 0

    status = api.wait_for_status(token, order["id"], "expired", timeout=60)

    assert status["orderStatus"]["label"] == "order expired"
    api.wait_for_available(product["id"], 2)
    late = api.pay(token, order["id"])
    assert late.status_code == 409


def test_lost_reservation_ends_out_of_stock_with_refund(api, seller_token, buyer):
    _, token = buyer
    product = api.create_product(seller_token, quantity=2)
    order = api.place_order(token, [(product["id"], 1)]).json()
    released = api.internal(
        "POST", "product_service", f"/internal/reservations/{order['id']}/release"
    )
    assert released.status_code == 200, released.text

    assert api.pay(token, order["id"]).status_code == 200

    status = api.wait_for_status(token, order["id"], "out_of_stock")
    assert status["orderStatus"]["label"] == "order out of stock"
    detail = api.call("GET", "order_service", f"/orders/{order['id']}", token=token).json()
    assert detail["status"] == "out_of_stock"
    assert api.available(product["id"]) == 2


def test_insufficient_stock_is_409_and_reserves_nothing(api, seller_token, buyer):
    _, token = buyer
    first = api.create_product(seller_token, quantity=5)
    scarce = api.create_product(seller_token, quantity=1)

    response = api.place_order(token, [(first["id"], 2), (scarce["id"], 2)])

    assert response.status_code == 409
    assert response.json()["message"] == "not sufficient inventory"
    assert api.available(first["id"]) == 5
    assert api.available(scarce["id"]) == 1


def test_idempotency_key_replay_returns_the_first_answer(api, seller_token, buyer):
    _, token = buyer
    product = api.create_product(seller_token, quantity=5)
    headers = {"Idempotency-Key": "e2e-key-1"}

    first = api.place_order(token, [(product["id"], 1)], headers=dict(headers))
    replay = api.place_order(token, [(product["id"], 1)], headers=dict(headers))
    different = api.place_order(token, [(product["id"], 2)], headers=dict(headers))

    assert first.status_code == 201
    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert different.status_code == 422
    assert api.available(product["id"]) == 4
    orders = api.call("GET", "order_service", "/orders", token=token).json()
    assert orders["count"] == 1


def test_users_see_only_their_own_orders_and_admins_see_all(api, seller_token):
    alice, alice_token = api.new_user()
    _, bob_token = api.new_user()
    product = api.create_product(seller_token, quantity=5)
    order = api.place_order(alice_token, [(product["id"], 1)]).json()

    assert (
        api.call("GET", "order_service", f"/orders/{order['id']}", token=bob_token).status_code
        == 404
    )
    bob_orders = api.call("GET", "order_service", "/orders", token=bob_token).json()
    assert order["id"] not in [o["id"] for o in bob_orders["results"]]
    own = api.call("GET", "order_service", f"/orders/{order['id']}", token=alice_token)
    assert own.status_code == 200
    assert own.json()["userId"] == alice["id"]

    admin = api.admin_token()
    seen = api.call("GET", "order_service", f"/orders/{order['id']}", token=admin)
    assert seen.status_code == 200
