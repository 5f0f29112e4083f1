"""Locust users for the benchmark; bench/run.py picks one class per scenario.

The data the users need (buyers' access tokens, product ids, search words) is
seeded by run.py over the public API before locust starts and handed over as a
JSON file named by ``BENCH_DATA``. Nothing here talks to anything but the
service under test on 127.0.0.1.

- ``CeilingUser``: GET the constant view of the trivial Django project.
- ``CatalogueUser``: product list with filters, text search, product detail. With
  ``BENCH_CACHE_OUT`` set, the answers' ``X-Cache`` values (``hit``, ``miss``, or ``none``
  when the header is absent: the catalogue cache is off) are counted and written there when
  the run stops, per request name.
- ``OrderUser``: one order per iteration: ``POST /orders`` then ``POST /orders/{id}/pay``.
  ``BENCH_ORDER_RATE_PER_USER`` (orders/s) paces it; unset, it runs flat out.
  With ``BENCH_ORDERS_OUT`` set, the placed orders' ids (and their buyer's token)
  are written there when the run stops, for the payment-to-confirmed latency.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from collections import Counter

from locust import constant, constant_throughput, events, task
from locust.contrib.fasthttp import FastHttpUser

DATA: dict = {}
if os.path.exists(os.environ.get("BENCH_DATA", "")):
    with open(os.environ["BENCH_DATA"]) as handle:
        DATA = json.load(handle)

_buyer_numbers = itertools.count()
PLACED: list[dict] = []
CACHE_OUT = os.environ.get("BENCH_CACHE_OUT")
CACHE_OUTCOMES: dict[str, Counter] = {}


def _order_wait():
    rate = float(os.environ.get("BENCH_ORDER_RATE_PER_USER", "0") or 0)
    return constant_throughput(rate) if rate > 0 else constant(0)


class CeilingUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def constant_view(self) -> None:
        self.client.get("/ceiling", name="GET /ceiling")


class CatalogueUser(FastHttpUser):
    wait_time = constant(0)

    @task(4)
    def list_filtered(self) -> None:
        # Pages past the first only where every category has them (no price or tag filter).
        params = {"category": random.choice(DATA["categories"])}
        choice = random.random()
        if choice < 0.3:
            low = random.choice((5, 10, 20, 50))
            params.update(minPrice=low, maxPrice=low * 4)
        elif choice < 0.8:
            params["ordering"] = random.choice(("price", "-price", "-createdAt", "title"))
            params["page"] = random.randint(1, DATA["full_pages"])
        else:
            params["tags"] = random.choice(DATA["tags"])
        self.client.get("/product/", params=params, name="GET /product/?filters")

    @task(2)
    def search(self) -> None:
        self.client.get(
            "/product/",
            params={"search": random.choice(DATA["search_words"])},
            name="GET /product/?search",
        )

    @task(4)
    def detail(self) -> None:
        product_id = random.choice(DATA["catalogue_products"])
        self.client.get(f"/product/{product_id}", name="GET /product/{id}")


class CatalogueListUser(CatalogueUser):
    """Only the list with filters: the catalogue's miss path as issue 11 targets it."""

    tasks = [CatalogueUser.list_filtered]


class OrderUser(FastHttpUser):
    wait_time = _order_wait()

    def on_start(self) -> None:
        buyers = DATA["buyers"]
        self.token = buyers[next(_buyer_numbers) % len(buyers)]["token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}

    @task
    def place_and_pay(self) -> None:
        body = {"items": [{"productId": random.choice(DATA["order_products"]), "quantity": 1}]}
        with self.client.post(
            "/orders", json=body, headers=self.headers, name="POST /orders", catch_response=True
        ) as response:
            if response.status_code != 201:
                response.failure(f"create: {response.status_code} {response.text[:200]}")
                return
            order_id = response.json()["id"]
        with self.client.post(
            f"/orders/{order_id}/pay",
            json={"paymentToken": "tok_visa"},
            headers=self.headers,
            name="POST /orders/{id}/pay",
            catch_response=True,
        ) as response:
            if not 200 <= response.status_code < 300:
                response.failure(f"pay: {response.status_code} {response.text[:200]}")
                return
        PLACED.append({"id": order_id, "token": self.token})


@events.test_stop.add_listener
def _write_placed_orders(**_kwargs) -> None:
    path = os.environ.get("BENCH_ORDERS_OUT")
    if path:
        with open(path, "w") as handle:
            json.dump(PLACED, handle)


@events.request.add_listener
def _count_cache_outcome(name, response=None, exception=None, **_kwargs) -> None:
    if CACHE_OUT and exception is None and response is not None:
        outcome = (response.headers or {}).get("x-cache") or "none"
        CACHE_OUTCOMES.setdefault(name, Counter())[outcome] += 1


@events.test_stop.add_listener
def _write_cache_outcomes(**_kwargs) -> None:
    if CACHE_OUT:
        with open(CACHE_OUT, "w") as handle:
            json.dump({name: dict(counts) for name, counts in CACHE_OUTCOMES.items()}, handle)
