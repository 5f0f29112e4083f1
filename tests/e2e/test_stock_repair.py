"""Stock left out by an interrupted release comes back: through the next release of the order,
and through the periodic repair that integration_service's beat asks product_service for.

A crash inside product_service cannot be timed from outside, so each test writes to MongoDB
exactly what the crash leaves behind (the reservation moved, its stock not yet given back),
then lets the real processes do the rest.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pymongo
import pytest
from bson import ObjectId


@pytest.fixture(scope="module")
def catalogue(system):
    client = pymongo.MongoClient(system.settings.mongodb_uri, serverSelectionTimeoutMS=5000)
    yield client.get_default_database("ecommerce_products")
    client.close()


def stock_of(catalogue, product_id: str) -> tuple[int, int, int]:
    document = catalogue["products"].find_one({"_id": ObjectId(product_id)})
    return document["quantity"], document["reserved"], document["sold"]


def wait_for_stock(catalogue, product_id: str, expected: tuple[int, int, int], timeout=60):
    deadline = time.monotonic() + timeout
    while stock_of(catalogue, product_id) != expected and time.monotonic() < deadline:
        time.sleep(0.5)
    assert stock_of(catalogue, product_id) == expected


def test_cancelling_an_order_whose_release_crashed_after_its_state_move_returns_the_stock(
    api, catalogue
):
    _, seller = api.new_user()
    _, buyer = api.new_user()
    product_id = api.create_product(seller, quantity=5)["id"]
    created = api.place_order(buyer, [(product_id, 2)])
    assert created.status_code == 201, created.text
    order_id = created.json()["id"]
    # A release of this order died right after moving the reservation: the holds are still out.
    catalogue["stock_reservations"].update_one(
        {"order_id": order_id}, {"$set": {"state": "released"}}
    )
    assert stock_of(catalogue, product_id) == (3, 2, 0)

    cancelled = api.call("POST", "order_service", f"/orders/{order_id}/cancel", token=buyer)

    assert cancelled.status_code == 200, cancelled.text
    # The worker's release finds the reservation released and finishes what was left.
    wait_for_stock(catalogue, product_id, (5, 0, 0))


def test_the_periodic_repair_returns_the_stock_of_a_committed_release_that_crashed(api, catalogue):
    _, seller = api.new_user()
    _, buyer = api.new_user()
    product_id = api.create_product(seller, quantity=5)["id"]
    created = api.place_order(buyer, [(product_id, 2)])
    order_id = created.json()["id"]
    assert api.pay(buyer, order_id).status_code == 200
    api.wait_for_status(buyer, order_id, "confirmed")
    wait_for_stock(catalogue, product_id, (3, 0, 2))
    # A release out of committed died right after its state move, long enough ago to count as
    # interrupted: its token is on the product, its units still sold. No event will come.
    token = f"{order_id}/{uuid.uuid4().hex}"
    catalogue["products"].update_one({"_id": ObjectId(product_id)}, {"$push": {"returns": token}})
    catalogue["stock_reservations"].update_one(
        {"order_id": order_id},
        {
            "$set": {
                "state": "released",
                "release_token": token,
                "updated_at": datetime.now(UTC) - timedelta(minutes=10),
            }
        },
    )

    # integration_service's beat calls POST /internal/stock/repair every few seconds here.
    wait_for_stock(catalogue, product_id, (5, 0, 0))
    document = catalogue["products"].find_one({"_id": ObjectId(product_id)})
    assert document["returns"] == []
    reservation = catalogue["stock_reservations"].find_one({"order_id": order_id})
    assert [item.get("returned") for item in reservation["items"]] == [True]
