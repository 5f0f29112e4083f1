"""A charge that went through but whose answer was lost (tok_chargeThenTimeout), with the real
processes: the order ends confirmed or refunded, never both and never neither."""

from __future__ import annotations

import time

import pytest

from support.stores import Stores


@pytest.fixture(scope="module")
def stores(system) -> Stores:
    return Stores(system)


def pay_and_lose_the_answer(api, stores, token: str, product_id: str) -> str:
    created = api.place_order(token, [(product_id, 1)])
    assert created.status_code == 201, created.text
    order_id = created.json()["id"]
    paid = api.pay(token, order_id, "tok_chargeThenTimeout")
    assert paid.status_code == 503, paid.text
    assert paid.json()["code"] == "payment_gateway_unavailable"
    return order_id


def wait_for_payment(stores, order_id: str, wanted: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while stores.payment_status(order_id) != wanted and time.monotonic() < deadline:
        time.sleep(0.3)
    assert stores.payment_status(order_id) == wanted


def test_a_charge_whose_answer_was_lost_is_found_and_the_order_confirmed(api, stores):
    _, seller = api.new_user()
    _, buyer = api.new_user()
    product = api.create_product(seller, quantity=3)

    order_id = pay_and_lose_the_answer(api, stores, buyer, product["id"])

    # The expiry tick (every 2 s here) asks the gateway before anything expires.
    api.wait_for_status(buyer, order_id, "confirmed", timeout=60)
    assert stores.transitions(order_id) == ["payment_pending", "paid", "confirmed"]
    assert stores.payment_status(order_id) == "approved"
    assert stores.gateway_ledger(order_id) == [("charge", order_id)]
    assert stores.stock(product["id"]) == {"available": 2, "reserved": 0, "sold": 1}


def test_cancelling_an_order_whose_charge_answer_was_lost_refunds_the_charge(api, stores):
    _, seller = api.new_user()
    _, buyer = api.new_user()
    product = api.create_product(seller, quantity=3)

    order_id = pay_and_lose_the_answer(api, stores, buyer, product["id"])
    cancelled = api.call("POST", "order_service", f"/orders/{order_id}/cancel", token=buyer)

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    wait_for_payment(stores, order_id, "refunded")
    assert stores.transitions(order_id) == ["payment_pending", "paid", "cancelled"]
    assert stores.gateway_ledger(order_id) == [
        ("charge", order_id),
        ("refund", f"refund-{order_id}"),
    ]
    api.wait_for_available(product["id"], 3)
    assert stores.stock(product["id"]) == {"available": 3, "reserved": 0, "sold": 0}
