"""Seeding: users and products over the public API, and earlier orders straight into the stores.

:func:`seed` registers the buyers (and logs them in: locust gets their tokens) and creates the
catalogue and the stocked products as the admin; :func:`seed_history` writes ``--history``
earlier confirmed orders in bulk into SecantusDB and PostgreSQL (the SQL is
``ecommerce_common.testing.history``'s, shared with order_service's tests);
:func:`place_paid_order` places and pays one order.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import requests
from harness import DATABASE_PREFIX, VAR, BenchError, Harness, say

from ecommerce_common.testing import history

CATEGORIES = ["Electronics", "Clothing", "Books", "Home & Kitchen", "Beauty", "Sports", "Other"]
TAGS = ["new", "sale", "eco", "premium", "gift", "bestseller", "limited", "classic"]
ADJECTIVES = ["Compact", "Deluxe", "Rugged", "Smart", "Classic", "Portable", "Organic", "Vintage"]
NOUNS = [
    "lamp", "kettle", "backpack", "novel", "jacket", "blender", "speaker", "serum",
    "racket", "mug", "charger", "scarf", "atlas", "yoga mat", "pan", "headset",
]  # fmt: skip
SEARCH_WORDS = ["lamp", "kettle", "novel", "jacket", "speaker", "mug", "smart", "vintage"]
# Seeding over the API hashes a password twice per buyer (Argon2): on a loaded machine one call
# can take far longer than a request under test may.
SEED_TIMEOUT = 180


def post(harness: Harness, url: str, **kwargs) -> requests.Response:
    """A seeding call, sent again (up to 5 times) after a reset connection or a 5xx: the
    machine is shared, and a kept-alive connection the server just closed, or a database
    restarted by other work, must not end the run. Callers send only what may be repeated
    (logins; a registration with a fresh address each time)."""
    for attempt in range(5):
        try:
            response = harness.http.post(url, timeout=SEED_TIMEOUT, **kwargs)
        except requests.ConnectionError:
            if attempt == 4:
                raise
        else:
            if response.status_code < 500 or attempt == 4:
                return response
        time.sleep(1 + attempt)
    raise AssertionError("unreachable")


def login(harness: Harness, email: str, password: str) -> str:
    response = post(
        harness,
        f"{harness.url('user_service')}/users/login",
        json={"email": email, "password": password},
    )
    if response.status_code != 200:
        raise BenchError(f"login {email}: {response.status_code} {response.text[:300]}")
    return response.json()["token"]


def register_buyer(harness: Harness, number: int) -> dict:
    password = "Bench-passw0rd-!x"
    for attempt in range(5):
        # A fresh address per attempt: a failed attempt may have registered its own.
        email = f"bench-buyer-{number}-{random.randrange(10**9)}@example.com"
        try:
            response = requests.post(
                f"{harness.url('user_service')}/users/register",
                json={"firstName": "Bench", "lastName": f"Buyer{number}", "email": email,
                      "password": password},
                timeout=SEED_TIMEOUT,
            )  # fmt: skip
        except requests.ConnectionError:
            if attempt == 4:
                raise
            continue
        if response.status_code < 500 or attempt == 4:
            break
        time.sleep(1 + attempt)
    if response.status_code != 201:
        raise BenchError(f"register: {response.status_code} {response.text[:300]}")
    return {"email": email, "token": login(harness, email, password)}


def create_product(harness: Harness, token: str, body: dict) -> str:
    response = requests.post(
        f"{harness.url('product_service')}/product/",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=SEED_TIMEOUT,
    )
    if response.status_code != 201:
        raise BenchError(f"create product: {response.status_code} {response.text[:300]}")
    return response.json()["id"]


def seed(harness: Harness) -> dict:
    """The catalogue, the stocked products and the buyers (with tokens), over the public API;
    written to bench-data.json for locust, and returned."""
    assert harness.system is not None
    args = harness.args
    rng = random.Random(7)
    env = harness.system.environment("user_service")
    admin = login(harness, env["ADMIN_EMAIL"], env["ADMIN_PASSWORD"])
    catalogue = []
    for number in range(args.products):
        adjective, noun = rng.choice(ADJECTIVES), rng.choice(NOUNS)
        catalogue.append({
            "title": f"{adjective} {noun} {number}",
            "description": f"A {adjective.lower()} {noun} for the benchmark catalogue.",
            "price": round(rng.uniform(5, 200), 2),
            "category": CATEGORIES[number % len(CATEGORIES)],
            "quantity": rng.randint(1, 500),
            "imageUrl": f"https://example.com/bench/{number}.png",
            "tags": rng.sample(TAGS, 2),
        })  # fmt: skip
    stocked = [
        {
            "title": f"Bench stock item {number}",
            "description": "Plenty of stock for the order scenarios.",
            "price": 10.0 + number,
            "category": "Other",
            "quantity": args.stock,
            "imageUrl": "https://example.com/bench/stock.png",
            "tags": ["bench-stock"],
        }
        for number in range(args.order_products)
    ]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        catalogue_ids = list(pool.map(lambda body: create_product(harness, admin, body), catalogue))
        order_ids = list(pool.map(lambda body: create_product(harness, admin, body), stocked))
        buyers = list(pool.map(partial(register_buyer, harness), range(args.buyers)))
    say(
        f"seeded {len(catalogue_ids)} catalogue products, {len(order_ids)} stocked products, "
        f"{len(buyers)} buyers with tokens in {time.monotonic() - started:.1f}s"
    )
    data = {
        "categories": CATEGORIES,
        "tags": TAGS,
        "search_words": SEARCH_WORDS,
        "catalogue_products": catalogue_ids,
        # Pages of 20 (the API's default size) that every category fills.
        "full_pages": max(1, len(catalogue_ids) // len(CATEGORIES) // 20),
        "order_products": order_ids,
        "buyers": buyers,
    }
    (VAR / "bench-data.json").write_text(json.dumps(data))
    return data


def seed_history(harness: Harness, data: dict, count: int) -> dict:
    """``count`` earlier confirmed orders, written straight into the stores in bulk: in
    product_service's ``stock_reservations`` (copies of a real committed reservation), in
    order_service's PostgreSQL (order, item, three status history rows, three outbox rows,
    the approved payment: what an order leaves behind) and in the integration event log
    (its ``order.paid`` row). Nothing of it is in flight, so no process acts on it."""
    started = time.monotonic()
    # SecantusDB takes the longest: it runs beside the two PostgreSQL databases' inserts.
    with ThreadPoolExecutor(max_workers=3) as pool:
        mongo = pool.submit(_seed_history_reservations, harness, data, count)
        rows = [
            pool.submit(_seed_history_rows, harness, data, database, statements, count)
            for database, statements in (
                ("orders", history.ORDERS_SQL),
                ("integration", history.EVENTS_SQL),
            )
        ]
        mongo_seconds = mongo.result()
        for done in rows:
            done.result()
    seconds = time.monotonic() - started
    say(
        f"seeded {count} earlier orders in the stores in {seconds:.1f}s "
        f"(stock_reservations {mongo_seconds:.1f}s)"
    )
    return {
        "orders": count,
        "seconds": round(seconds, 1),
        "mongo_seconds": round(mongo_seconds, 1),
    }


def _seed_history_reservations(harness: Harness, data: dict, count: int) -> float:
    import pymongo

    assert harness.system is not None
    started = time.monotonic()
    env = harness.system.environment("product_service")
    uri = env["MONGODB_URI"]
    database = pymongo.uri_parser.parse_uri(uri).get("database") or env.get(
        "MONGODB_DB_NAME", "ecommerce_products"
    )
    products = data["order_products"]
    with pymongo.MongoClient(uri) as client:
        reservations = client[database]["stock_reservations"]
        template = reservations.find_one({"state": "committed"})
        if template is None:
            raise BenchError("no committed reservation to copy: run the orders scenario first")
        template.pop("_id")
        base = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
        batch = []
        for number in range(1, count + 1):
            at = base + dt.timedelta(seconds=number)
            item = {**template["items"][0], "productId": products[number % len(products)]}
            batch.append({
                **template,
                "order_id": str(_history_uuid("order", number)),
                "items": [item],
                "expires_at": at + dt.timedelta(minutes=20),
                "created_at": at,
                "updated_at": at + dt.timedelta(seconds=2),
            })  # fmt: skip
            if len(batch) == 5000 or number == count:
                reservations.insert_many(batch, ordered=False)
                batch = []
    return time.monotonic() - started


def _seed_history_rows(
    harness: Harness, data: dict, database: str, statements: tuple[str, ...], count: int
) -> None:
    import psycopg

    url = f"{harness.postgres_url}/{DATABASE_PREFIX}{database}"
    params = {"count": count, "products": data["order_products"]}
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        history.history_seed(cursor, statements, **params)
    with psycopg.connect(url, autocommit=True) as conn:
        # Fresh statistics, as a database that grew over time would have.
        conn.execute("ANALYZE")


def place_paid_order(harness: Harness, data: dict, buyer: dict) -> str:
    headers = {"Authorization": f"Bearer {buyer['token']}"}
    product = random.choice(data["order_products"])
    response = requests.post(
        f"{harness.url('order_service')}/orders",
        json={"items": [{"productId": product, "quantity": 1}]},
        headers=headers,
        timeout=30,
    )
    if response.status_code != 201:
        raise BenchError(f"create order: {response.status_code} {response.text[:300]}")
    order_id = response.json()["id"]
    response = requests.post(
        f"{harness.url('order_service')}/orders/{order_id}/pay",
        json={"paymentToken": "tok_visa"},
        headers=headers,
        timeout=30,
    )
    if not 200 <= response.status_code < 300:
        raise BenchError(f"pay: {response.status_code} {response.text[:300]}")
    return order_id


def _history_uuid(kind: str, number: int):
    """The id HISTORY_SQL gives row ``number`` of ``kind`` (md5 of the same text)."""
    import hashlib
    import uuid

    return uuid.UUID(hashlib.md5(f"bench-history-{kind}-{number}".encode()).hexdigest())
