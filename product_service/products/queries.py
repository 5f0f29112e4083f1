"""Every query shape product_service sends on a hot path, in one place.

Reserve, commit, release, the expiry sweep, the old quantity commit (``products.stock``) and
the catalogue reads (``products.selectors``: list, detail, quantity, reviews) build their
filters here and nowhere else; ``products/tests/test_indexes.py`` runs ``explain`` on each
shape in ``SHAPES`` and fails when one is a collection scan.

The shapes are flat filters, sent with pymongo ``find``/``update_one``/``count_documents``:
each top-level field is one condition, never an ``$and`` (SecantusDB plans no index for a
filter with a top-level operator, and the ORM nests its conditions in ``$and``), and the
first condition is the one an index serves (SecantusDB, like MongoDB's planner, uses an
index for one clause of a conjunction and checks the rest on the documents it fetches).
Every ordering carries the id as its tie-break and has a compound index of its own, so an
unfiltered page walks that index instead of sorting the collection.

The one shape that scans by design is the catalogue's text ``search``: a case-insensitive
substring match (an ``$or`` of three regular expressions), which no index answers; MongoDB
checks it on the products the other filters' indexes give, SecantusDB on every product. So
that it scans once per page, not twice, its page and total are read in one aggregation
(``store.Found``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from bson import ObjectId
from django.db.models import Model

from products.constants import ReservationState
from products.models import Product, Reservation, Review
from products.store import to_store

Sort = list[tuple[str, int]]


@dataclass(frozen=True)
class Query:
    """One query: the model whose collection it reads or writes, its filter, sort, projection."""

    model: type[Model]
    filter: dict[str, Any]
    sort: Sort | None = None
    projection: dict[str, int] | None = None
    # Why this shape may scan (only the text search); None: it must be answered from an index.
    scans: str | None = None


SHAPES: dict[str, Callable[..., Query]] = {}


def _shape(function: Callable[..., Query]) -> Callable[..., Query]:
    SHAPES[function.__name__] = function
    return function


# --- products: stock steps (one conditional update each) and reads by id --------------------


@_shape
def product_by_id(*, product_id: ObjectId, projection: dict[str, int] | None = None) -> Query:
    return Query(Product, {"_id": product_id}, projection=projection)


@_shape
def products_by_ids(*, product_ids: list[ObjectId]) -> Query:
    return Query(Product, {"_id": {"$in": product_ids}}, projection={"quantity": 1})


@_shape
def product_available(*, product_id: ObjectId, order_id: str, quantity: int) -> Query:
    """The product, if ``quantity`` is available and the order holds none of it yet."""
    return Query(
        Product,
        {"_id": product_id, "quantity": {"$gte": quantity}, "holds.orderId": {"$ne": order_id}},
    )


@_shape
def product_held_for(*, product_id: ObjectId, order_id: str) -> Query:
    """The product, if the order holds some of it."""
    return Query(Product, {"_id": product_id, "holds.orderId": order_id})


@_shape
def product_with_return(*, product_id: ObjectId, token: str) -> Query:
    """The product, if a release's token to return units of it is still there."""
    return Query(Product, {"_id": product_id, "returns": token})


@_shape
def product_returning_hold(*, product_id: ObjectId, order_id: str, token: str) -> Query:
    """The product, if the release's token is there and the order still holds some of it."""
    return Query(Product, {"_id": product_id, "returns": token, "holds.orderId": order_id})


@_shape
def product_returning_sale(
    *, product_id: ObjectId, order_id: str, quantity: int, token: str
) -> Query:
    """The product, if the release's token is there, the order's hold was sold and at least
    ``quantity`` is sold."""
    return Query(
        Product,
        {
            "_id": product_id,
            "returns": token,
            "holds.orderId": {"$ne": order_id},
            "sold": {"$gte": quantity},
        },
    )


# --- reservations -----------------------------------------------------------------------------


@_shape
def reservation_of_order(*, order_id: str, states: tuple[str, ...] | None = None) -> Query:
    """The order's reservation (served by ``reservation_order_state_idx``: the unique
    constraint's index is partial and serves no query); only in one of ``states`` if given."""
    query: dict[str, Any] = {"order_id": order_id}
    if states is not None:
        query["state"] = {"$in": list(states)}
    return Query(Reservation, query)


@_shape
def reservation_by_id(*, reservation_id: ObjectId, states: tuple[str, ...]) -> Query:
    return Query(Reservation, {"_id": reservation_id, "state": {"$in": list(states)}})


@_shape
def reservation_line_not_returned(*, reservation_id: ObjectId, index: int) -> Query:
    return Query(Reservation, {"_id": reservation_id, f"items.{index}.returned": {"$ne": True}})


@_shape
def reservations_past_lifetime(*, now: datetime) -> Query:
    """Reserved ones whose lifetime ended, oldest first (the expiry sweep)."""
    expires_at = Reservation._meta.get_field("expires_at")
    return Query(
        Reservation,
        {
            "state": ReservationState.RESERVED.value,
            "expires_at": {"$lte": to_store(expires_at, now)},
        },
        sort=[("expires_at", 1)],
    )


@_shape
def reservations_interrupted(*, created_before: datetime) -> Query:
    """Pending ones older than the grace period, oldest first (the expiry sweep)."""
    created_at = Reservation._meta.get_field("created_at")
    return Query(
        Reservation,
        {
            "state": ReservationState.PENDING.value,
            "created_at": {"$lte": to_store(created_at, created_before)},
        },
        sort=[("created_at", 1)],
    )


# --- the catalogue ----------------------------------------------------------------------------

# API ordering names → model fields; the id breaks ties so pages never overlap.
ORDERINGS: dict[str, str] = {
    "createdAt": "created_at",
    "price": "price",
    "title": "title",
    "reviewCount": "review_count",
}


@dataclass(frozen=True)
class ProductFilters:
    category: str | None = None
    seller: str | None = None
    tags: list[str] = field(default_factory=list)
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    search: str | None = None
    ordering: str = "-createdAt"


@_shape
def catalogue(*, filters: ProductFilters) -> Query:
    """Products matching every given filter, in the given order; ``search`` is a
    case-insensitive literal match on title, description or a tag."""
    query: dict[str, Any] = {}
    if filters.category:
        query["category"] = filters.category
    if filters.seller:
        query["seller"] = filters.seller
    if filters.tags:
        query["tags"] = {"$in": list(filters.tags)}
    price = Product._meta.get_field("price")
    if filters.min_price is not None:
        query.setdefault("price", {})["$gte"] = to_store(price, filters.min_price)
    if filters.max_price is not None:
        query.setdefault("price", {})["$lte"] = to_store(price, filters.max_price)
    scans = None
    if filters.search:
        # The user's text is matched literally (escaped), never run as a pattern.
        pattern = {"$regex": re.escape(filters.search), "$options": "i"}
        query["$or"] = [{"title": pattern}, {"description": pattern}, {"tags": pattern}]
        scans = "a substring search, which no index answers"
    direction = -1 if filters.ordering.startswith("-") else 1
    column = Product._meta.get_field(ORDERINGS[filters.ordering.lstrip("-")]).column
    return Query(Product, query, sort=[(column, direction), ("_id", direction)], scans=scans)


@_shape
def catalogue_legacy(
    *, category: str | None = None, title: str | None = None, product_id: ObjectId | None = None
) -> Query:
    """The old ``/product/list`` call: exact matches on plain, validated values, newest first."""
    query: dict[str, Any] = {}
    if product_id is not None:
        query["_id"] = product_id
    if category is not None:
        query["category"] = category
    if title is not None:
        query["title"] = title
    return Query(Product, query, sort=[("created_at", -1), ("_id", -1)])


@_shape
def reviews_of_product(*, product_id: ObjectId) -> Query:
    return Query(
        Review,
        {Review._meta.get_field("product").column: product_id},
        sort=[("created_at", -1), ("_id", -1)],
    )
