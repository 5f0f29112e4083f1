"""Every hot query of product_service is answered from an index: ``explain`` on SecantusDB.

Two proofs. Each shape of ``products.queries`` (what stock and the catalogue reads build) is
explained with sample arguments. And each hot path (reserve, commit, release, the expiry
sweep, the old quantity commit, the catalogue list with each filter and ordering, detail,
quantity, reviews) is run through its HTTP route while pymongo's command monitoring records
what it really sends; every command is explained. A plan with a ``COLLSCAN`` anywhere in
its winning plan tree fails.

SecantusDB's ``explain`` reports a collection scan for a conjunction of several fields
unless one compound index covers them all, while its executor (and MongoDB's planner) uses
the index of one clause and checks the others on the documents fetched. So a flat filter
passes when one of its clauses alone is answered from an index; a filter with a top-level
operator (``$and``, ``$or``), which SecantusDB never plans on an index, does not.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from bson import ObjectId
from django.db import connection
from django.utils import timezone

from products import queries
from products.constants import Category, ReservationState
from products.models import Product, Reservation
from products.queries import ProductFilters, Query
from products.store import collection
from products.tests.factories import ReservationFactory, ReviewFactory

ORDER_ID = "order-hot-1"
# Enough history that a scan would be the bug of issue 11, and enough catalogue to filter.
EARLIER_RESERVATIONS = 1500
CATALOGUE_SIZE = 120


def _stages(node: Any) -> Iterator[str]:
    """Every ``stage`` named anywhere under ``node`` (a winning plan and its input stages)."""
    if isinstance(node, dict):
        if "stage" in node:
            yield node["stage"]
        for value in node.values():
            yield from _stages(value)
    elif isinstance(node, list):
        for value in node:
            yield from _stages(value)


def _winning_plans(reply: Any) -> Iterator[dict]:
    if isinstance(reply, dict):
        for key, value in reply.items():
            if key == "winningPlan":
                yield value
            else:
                yield from _winning_plans(value)
    elif isinstance(reply, list):
        for value in reply:
            yield from _winning_plans(value)


def _explain(command: dict[str, Any]) -> list[str]:
    reply = connection.database.command({"explain": command, "verbosity": "queryPlanner"})
    plans = list(_winning_plans(reply))
    assert plans, f"explain gave no winning plan for {command}: {reply}"
    return [stage for plan in plans for stage in _stages(plan)]


def _find(collection_name: str, query: dict[str, Any], sort: Any = None) -> dict[str, Any]:
    command: dict[str, Any] = {"find": collection_name, "filter": query}
    if sort:
        command["sort"] = dict(sort)
    return command


def _indexed(command: dict[str, Any], query: dict[str, Any]) -> bool:
    """Whether ``command`` (which filters by ``query``) is answered from an index (see above)."""
    if "COLLSCAN" not in _explain(command):
        return True
    name = next(iter(command))
    clauses = [field for field in query if not field.startswith("$")]
    if len(query) < 2 or len(clauses) != len(query):
        return False
    return any(
        "COLLSCAN" not in _explain(_find(command[name], {field: query[field]})) for field in clauses
    )


def _reads(command: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The queries in one recorded command, as (command to explain, its filter)."""
    name = next(iter(command))
    target = command[name]
    if name == "find":
        query = command.get("filter") or {}
        return [(_find(target, query, command.get("sort")), query)]
    if name == "aggregate":
        head = command["pipeline"][0] if command["pipeline"] else {}
        explained = {"aggregate": target, "pipeline": command["pipeline"], "cursor": {}}
        return [(explained, head.get("$match", {"$none": True}))]
    if name == "update":
        return [(_find(target, update["q"]), update["q"]) for update in command["updates"]]
    if name == "delete":
        return [(_find(target, delete["q"]), delete["q"]) for delete in command["deletes"]]
    if name == "findAndModify":
        return [(_find(target, command["query"], command.get("sort")), command["query"])]
    if name == "count" and command.get("query"):
        return [(_find(target, command["query"]), command["query"])]
    # Inserts, the next batch of a cursor already explained, and a count of the whole
    # collection (its metadata) plan no query of their own.
    assert name in {"insert", "getMore", "killCursors", "count"}, f"unknown command: {command}"
    return []


def _scans(commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    scanning = []
    for command in commands:
        for explained, query in _reads(command):
            if not _indexed(explained, query):
                scanning.append(explained)
    return scanning


@pytest.fixture
def history():
    """A catalogue and the reservation history of earlier orders, inserted in bulk."""
    categories = list(Category.values)
    products = Product.objects.bulk_create(
        Product(
            title=f"Product {n}",
            description="A fine thing.",
            price=Decimal(n % 50) + Decimal("0.37"),
            category=categories[n % len(categories)],
            quantity=1000,
            image_url="https://img.example.com/p.png",
            tags=[f"tag{n % 9}", "all"],
            seller=str(n % 5),
        )
        for n in range(CATALOGUE_SIZE)
    )
    now = timezone.now()
    collection(Reservation).insert_many(
        {
            "order_id": f"earlier-{n}",
            "state": ReservationState.COMMITTED,
            "items": [{"productId": str(products[0].pk), "quantity": 1}],
            "expires_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for n in range(EARLIER_RESERVATIONS)
    )
    return products


# --- the shapes ---------------------------------------------------------------------------------

NOW = timezone.now()
SOME_ID = ObjectId()

SAMPLES: dict[str, list[Callable[[], Query]]] = {
    "product_by_id": [lambda: queries.product_by_id(product_id=SOME_ID)],
    "products_by_ids": [lambda: queries.products_by_ids(product_ids=[SOME_ID, ObjectId()])],
    "product_available": [
        lambda: queries.product_available(product_id=SOME_ID, order_id=ORDER_ID, quantity=2)
    ],
    "product_held_for": [lambda: queries.product_held_for(product_id=SOME_ID, order_id=ORDER_ID)],
    "product_with_return": [lambda: queries.product_with_return(product_id=SOME_ID, token="t")],
    "product_returning_hold": [
        lambda: queries.product_returning_hold(product_id=SOME_ID, order_id=ORDER_ID, token="t")
    ],
    "product_returning_sale": [
        lambda: queries.product_returning_sale(
            product_id=SOME_ID, order_id=ORDER_ID, quantity=2, token="t"
        )
    ],
    "reservation_of_order": [
        lambda: queries.reservation_of_order(order_id=ORDER_ID),
        lambda: queries.reservation_of_order(
            order_id=ORDER_ID, states=(ReservationState.PENDING, ReservationState.RESERVED)
        ),
    ],
    "reservation_by_id": [
        lambda: queries.reservation_by_id(
            reservation_id=SOME_ID, states=(ReservationState.PENDING,)
        )
    ],
    "reservation_line_not_returned": [
        lambda: queries.reservation_line_not_returned(reservation_id=SOME_ID, index=0)
    ],
    "reservations_past_lifetime": [lambda: queries.reservations_past_lifetime(now=NOW)],
    "reservations_interrupted": [
        lambda: queries.reservations_interrupted(created_before=NOW - timedelta(minutes=2))
    ],
    "catalogue": [
        lambda filters=filters: queries.catalogue(filters=filters)
        for filters in [
            *(ProductFilters(ordering=ordering) for ordering in ("-createdAt", "price")),
            *(ProductFilters(ordering=ordering) for ordering in ("-title", "reviewCount")),
            ProductFilters(category=Category.BOOKS, min_price=Decimal("0.37")),
            ProductFilters(category=Category.BOOKS, max_price=Decimal("9"), ordering="-price"),
            ProductFilters(category=Category.BOOKS, ordering="price"),
            ProductFilters(category=Category.BOOKS, ordering="-createdAt"),
            ProductFilters(seller="3", ordering="title"),
            ProductFilters(tags=["tag1", "tag2"], ordering="-reviewCount"),
            ProductFilters(min_price=Decimal("5"), max_price=Decimal("20")),
            ProductFilters(
                category=Category.SPORTS, seller="2", tags=["all"], min_price=Decimal("1")
            ),
        ]
    ],
    "catalogue_legacy": [
        lambda: queries.catalogue_legacy(),
        lambda: queries.catalogue_legacy(category=Category.BOOKS),
        lambda: queries.catalogue_legacy(title="Product 3", category=Category.BOOKS),
        lambda: queries.catalogue_legacy(product_id=SOME_ID),
    ],
    "reviews_of_product": [lambda: queries.reviews_of_product(product_id=SOME_ID)],
}


def test_every_hot_query_shape_has_samples_here():
    assert set(SAMPLES) == set(queries.SHAPES)


@pytest.mark.parametrize(
    "sample",
    [sample for samples in SAMPLES.values() for sample in samples],
    ids=[f"{name}-{n}" for name, samples in SAMPLES.items() for n in range(len(samples))],
)
def test_each_hot_query_shape_is_answered_from_an_index(history, sample):
    query = sample()
    name = query.model._meta.db_table

    assert query.scans is None
    assert _indexed(_find(name, query.filter, query.sort), query.filter), query


def test_an_unfiltered_catalogue_page_walks_the_ordering_index_without_sorting(history):
    for ordering in ("-createdAt", "createdAt", "price", "-title", "reviewCount"):
        query = queries.catalogue(filters=ProductFilters(ordering=ordering))

        stages = _explain(_find("products", query.filter, query.sort))

        assert "SORT" not in stages, (ordering, stages)
        assert "COLLSCAN" not in stages, (ordering, stages)


def _index_names(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if "indexName" in node:
            yield node["indexName"]
        for value in node.values():
            yield from _index_names(value)
    elif isinstance(node, list):
        for value in node:
            yield from _index_names(value)


@pytest.mark.parametrize(
    "filters",
    [
        ProductFilters(category=Category.BOOKS),
        ProductFilters(category=Category.BOOKS, ordering="price"),
        ProductFilters(category=Category.BOOKS, ordering="-price"),
        ProductFilters(category=Category.BOOKS, min_price=Decimal("5"), max_price=Decimal("20")),
        ProductFilters(category=Category.BOOKS, min_price=Decimal("0.37"), ordering="title"),
    ],
)
def test_a_category_and_its_price_range_ride_the_category_price_index(history, filters):
    # One index for the category, its price range and its price order: on SecantusDB the
    # category's products come out of it in price order, cheap to sort by price.
    query = queries.catalogue(filters=filters)
    command = _find("products", query.filter, query.sort)

    reply = connection.database.command({"explain": command, "verbosity": "queryPlanner"})

    plans = list(_winning_plans(reply))
    assert [name for plan in plans for name in _index_names(plan)] == ["product_category_price_idx"]
    assert "COLLSCAN" not in _explain(command)


def test_only_the_text_search_is_allowed_to_scan():
    searching = queries.catalogue(filters=ProductFilters(search="lamp", category=Category.BOOKS))

    assert searching.scans is not None
    assert queries.catalogue(filters=ProductFilters(category=Category.BOOKS)).scans is None


def test_a_lookup_by_order_id_would_scan_with_only_the_unique_constraints_partial_index(history):
    # The bug of issue 11: the unique index is partial, so it cannot serve the lookup.
    indexes = collection(Reservation).index_information()
    partial = [spec for spec in indexes.values() if "partialFilterExpression" in spec]

    assert [spec["key"] for spec in partial] == [[("order_id", 1)]]
    assert "COLLSCAN" not in _explain(_find("stock_reservations", {"order_id": ORDER_ID}))


# --- what each hot path really sends ------------------------------------------------------------


def _reserve(client: Any, product: Product, order_id: str = ORDER_ID) -> Any:
    body = {"orderId": order_id, "items": [{"productId": str(product.pk), "quantity": 1}]}
    response = client.post("/internal/reservations", body, format="json")
    assert response.status_code in (200, 201), response.json()
    return response


def _path_reserve(client, products):
    _reserve(client, products[0])
    _reserve(client, products[0])  # the repeat


def _path_commit(client, products):
    _reserve(client, products[0])
    yield
    assert client.post(f"/internal/reservations/{ORDER_ID}/commit").status_code == 200


def _path_release(client, products):
    _reserve(client, products[0])
    yield
    assert client.post(f"/internal/reservations/{ORDER_ID}/release").status_code == 200
    assert client.post(f"/internal/reservations/{ORDER_ID}/release").status_code == 200


def _path_release_committed(client, products):
    _reserve(client, products[0])
    client.post(f"/internal/reservations/{ORDER_ID}/commit")
    yield
    assert client.post(f"/internal/reservations/{ORDER_ID}/release").status_code == 200


def _path_expiry_sweep(client, products):
    ReservationFactory(order_id="due", expires_at=timezone.now() - timedelta(minutes=1))
    yield
    assert client.post("/internal/reservations/expire").json() == {"released": 1}


def _path_old_quantity_commit(client, products):
    body = {"quantity": 1, "orderId": ORDER_ID}
    for _ in range(2):
        response = client.put(f"/internal/product/{products[1].pk}/quantity", body, format="json")
        assert response.status_code == 200


def _path_refused_reservation(client, products):
    body = {"orderId": ORDER_ID, "items": [{"productId": str(products[0].pk), "quantity": 10**5}]}
    assert client.post("/internal/reservations", body, format="json").status_code == 409


def _path_reservation_detail(client, products):
    _reserve(client, products[0])
    yield
    assert client.get(f"/internal/reservations/{ORDER_ID}").status_code == 200


CATALOGUE_QUERIES = [
    {},
    {"ordering": "price"},
    {"ordering": "-title", "page": 2, "pageSize": 10},
    {"ordering": "reviewCount"},
    {"category": "Books", "minPrice": "0.37"},
    {"category": "Books", "maxPrice": "9", "ordering": "-price"},
    {"seller": "3", "ordering": "title"},
    {"tags": "tag1,tag2", "ordering": "-reviewCount"},
    {"minPrice": "5", "maxPrice": "20"},
    {"category": "Sports", "seller": "2", "tags": "all", "minPrice": "1"},
]


def _path_catalogue_list(client, products):
    for params in CATALOGUE_QUERIES:
        assert client.get("/product/", params).status_code == 200, params


def _path_catalogue_legacy(client, products):
    for text in ("", '{"category": "Books"}', '{"category": "Books", "title": "Product 3"}'):
        assert client.get("/product/list", {"filter": text}).status_code == 200


def _path_detail_and_quantity(client, products):
    assert client.get(f"/product/{products[2].pk}").status_code == 200
    assert client.get(f"/product/{products[2].pk}/quantity").status_code == 200
    assert client.get(f"/product/{ObjectId()}").status_code == 404


def _path_reviews(client, products):
    ReviewFactory(product=products[3])
    yield
    assert client.get(f"/product/{products[3].pk}/reviews").json()["count"] == 1


HOT_PATHS = {
    "reserve": _path_reserve,
    "refused reserve": _path_refused_reservation,
    "commit": _path_commit,
    "release": _path_release,
    "release of a committed order": _path_release_committed,
    "expiry sweep": _path_expiry_sweep,
    "old quantity commit": _path_old_quantity_commit,
    "reservation detail": _path_reservation_detail,
    "catalogue list": _path_catalogue_list,
    "old catalogue list": _path_catalogue_legacy,
    "product detail and quantity": _path_detail_and_quantity,
    "reviews": _path_reviews,
}


@pytest.mark.parametrize("path", list(HOT_PATHS.values()), ids=list(HOT_PATHS))
def test_each_hot_path_sends_only_queries_answered_from_an_index(
    internal_client, history, store_commands, path
):
    if inspect.isgeneratorfunction(path):
        # A path that yields sets up first; only what runs after the yield is recorded.
        steps = path(internal_client, history)
        next(steps)
        with store_commands() as commands:
            next(steps, None)
    else:
        with store_commands() as commands:
            path(internal_client, history)

    assert commands
    assert _scans(commands) == []
