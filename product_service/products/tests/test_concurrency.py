"""Concurrent reservations against a running product_service (gunicorn, several workers).

The service runs as a real process on the test MongoDB server with its own database,
so the conditional updates are exercised across processes and threads, not mocked.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from bson import ObjectId

from products.tests.service_process import running_product_service

INTERNAL_TOKEN = "concurrency-internal-token"


@pytest.fixture(scope="module")
def running_service(verify_server_module):
    """product_service under gunicorn (2 workers, 8 threads each) on a database of its own."""
    with running_product_service(
        name="concurrency",
        internal_token=INTERNAL_TOKEN,
        verify_url=verify_server_module.url,
        env={"GUNICORN_THREADS": "8"},
    ) as service:
        yield service.base_url, service.database


@pytest.fixture(scope="module")
def verify_server_module():
    from ecommerce_common.testing.verify_server import VerifyServer

    server = VerifyServer()
    yield server
    server.shutdown()


def create_product(base_url: str, token: str, *, quantity: int) -> str:
    response = requests.post(
        f"{base_url}/product/",
        json={
            "title": "Scarce thing",
            "price": 9.99,
            "category": "Other",
            "quantity": quantity,
            "imageUrl": "image",
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def fire(base_url: str, bodies: list[dict]) -> list[requests.Response]:
    """POST every body to /internal/reservations at once (all threads released together)."""
    start = threading.Barrier(len(bodies))

    def reserve(body: dict) -> requests.Response:
        start.wait()
        return requests.post(
            f"{base_url}/internal/reservations",
            json=body,
            headers={"X-Internal-Token": INTERNAL_TOKEN},
            timeout=60,
        )

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(reserve, bodies))


class AvailableWatcher:
    """Reads the product's available stock over and over while the requests run."""

    def __init__(self, base_url: str, product_id: str) -> None:
        self.url = f"{base_url}/product/{product_id}/quantity"
        self.seen: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.seen.append(requests.get(self.url, timeout=10).json()["quantity"])

    def __enter__(self) -> AvailableWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_sixty_concurrent_reservations_for_ten_units_reserve_exactly_ten(
    running_service, verify_server_module
):
    base_url, database = running_service
    token = verify_server_module.issue(user_id="7")
    product_id = create_product(base_url, token, quantity=10)
    bodies = [
        {"orderId": f"order-{n}", "items": [{"productId": product_id, "quantity": 1}]}
        for n in range(60)
    ]

    with AvailableWatcher(base_url, product_id) as watcher:
        responses = fire(base_url, bodies)

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 10, 409: 50}
    assert all(r.json()["code"] == "insufficient_stock" for r in responses if r.status_code == 409)
    assert watcher.seen
    assert min(watcher.seen) >= 0
    document = database.products.find_one({"_id": ObjectId(product_id)})
    assert (document["quantity"], document["reserved"], document["sold"]) == (0, 10, 0)
    assert len(document["holds"]) == 10
    winners = {r.json()["orderId"] for r in responses if r.status_code == 201}
    assert {hold["orderId"] for hold in document["holds"]} == winners
    assert database.stock_reservations.count_documents({"state": "reserved"}) == 10


def test_concurrent_multi_item_orders_are_all_or_nothing(running_service, verify_server_module):
    base_url, database = running_service
    token = verify_server_module.issue(user_id="7")
    plenty = create_product(base_url, token, quantity=10)
    scarce = create_product(base_url, token, quantity=5)
    bodies = [
        {
            "orderId": f"multi-{n}",
            # Half the orders list the items the other way round; stock is taken in id order.
            "items": [
                {"productId": plenty if n % 2 else scarce, "quantity": 1},
                {"productId": scarce if n % 2 else plenty, "quantity": 1},
            ],
        }
        for n in range(50)
    ]

    responses = fire(base_url, bodies)

    assert Counter(r.status_code for r in responses) == {201: 5, 409: 45}
    by_id = {
        str(doc["_id"]): doc
        for doc in database.products.find({"_id": {"$in": [ObjectId(plenty), ObjectId(scarce)]}})
    }
    assert (by_id[plenty]["quantity"], by_id[plenty]["reserved"]) == (5, 5)
    assert (by_id[scarce]["quantity"], by_id[scarce]["reserved"]) == (0, 5)


def test_concurrent_repeats_of_one_order_reserve_once(running_service, verify_server_module):
    base_url, database = running_service
    token = verify_server_module.issue(user_id="7")
    product_id = create_product(base_url, token, quantity=10)
    body = {"orderId": "same-order", "items": [{"productId": product_id, "quantity": 3}]}

    responses = fire(base_url, [body] * 20)

    assert Counter(r.status_code for r in responses) == {201: 1, 200: 19}
    assert len({r.text for r in responses}) == 1
    document = database.products.find_one({"_id": ObjectId(product_id)})
    assert (document["quantity"], document["reserved"]) == (7, 3)


def test_racing_commits_releases_and_expiry_keep_the_stock_consistent(
    running_service, verify_server_module
):
    base_url, database = running_service
    token = verify_server_module.issue(user_id="7")
    product_id = create_product(base_url, token, quantity=40)
    orders = [f"race-{n}" for n in range(20)]
    created = fire(
        base_url,
        [
            {"orderId": order, "items": [{"productId": product_id, "quantity": 2}]}
            for order in orders
        ],
    )
    assert Counter(r.status_code for r in created) == {201: 20}

    # Every order is committed and released at the same moment, some twice, with sweeps between.
    calls = [(order, action) for order in orders for action in ("commit", "release", "commit")]
    calls += [(None, "expire")] * 5
    start = threading.Barrier(len(calls))

    def call(order_action: tuple[str | None, str]) -> int:
        order, action = order_action
        path = "expire" if order is None else f"{order}/{action}"
        start.wait()
        return requests.post(
            f"{base_url}/internal/reservations/{path}",
            headers={"X-Internal-Token": INTERNAL_TOKEN},
            timeout=60,
        ).status_code

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        statuses = list(pool.map(call, calls))

    # A commit after the release is refused (409); nothing else fails.
    assert set(statuses) <= {200, 409}
    document = database.products.find_one({"_id": ObjectId(product_id)})
    states = {
        doc["order_id"]: doc["state"]
        for doc in database.stock_reservations.find({"order_id": {"$in": orders}})
    }
    # Every order was released in the end, whether or not its commit landed first.
    assert set(states.values()) == {"released"}
    assert (document["quantity"], document["reserved"], document["sold"]) == (40, 0, 0)
    assert document["holds"] == []
    assert "sales" not in document


def test_the_stock_repair_racing_reservations_and_releases_mends_nothing_and_all_adds_up(
    running_service, verify_server_module
):
    base_url, database = running_service
    token = verify_server_module.issue(user_id="7")
    product_id = create_product(base_url, token, quantity=40)
    internal = {"X-Internal-Token": INTERNAL_TOKEN}
    orders = [f"repair-race-{n}" for n in range(20)]
    calls: list[str | None] = [*orders, *[None] * 4]
    start = threading.Barrier(len(calls))

    def call(order: str | None) -> tuple[int, int]:
        start.wait()
        if order is None:
            response = requests.post(
                f"{base_url}/internal/stock/repair", headers=internal, timeout=60
            )
            return response.status_code, response.json()["mended"]
        body = {"orderId": order, "items": [{"productId": product_id, "quantity": 2}]}
        status = requests.post(
            f"{base_url}/internal/reservations", json=body, headers=internal, timeout=60
        ).status_code
        for action in ("commit", "release")[: int(order.rsplit("-", 1)[1]) % 3]:
            status = requests.post(
                f"{base_url}/internal/reservations/{order}/{action}", headers=internal, timeout=60
            ).status_code
        return status, 0

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        results = list(pool.map(call, calls))

    assert {status for status, _ in results} == {200, 201}, results
    assert sum(mended for _, mended in results) == 0
    states = Counter(
        doc["state"] for doc in database.stock_reservations.find({"order_id": {"$in": orders}})
    )
    assert states == {"reserved": 7, "committed": 7, "released": 6}
    document = database.products.find_one({"_id": ObjectId(product_id)})
    assert (document["quantity"], document["reserved"], document["sold"]) == (12, 14, 14)
    assert len(document["holds"]) == 7
