"""Reads: the catalogue list and its filters, the old filtered list, reviews, reservations.

Each read sends one shape of ``products.queries`` through pymongo (``store.Found``), so it
is answered from an index on MongoDB and SecantusDB alike; see that module.
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from products import queries
from products.ids import parse_object_id
from products.models import Product, Reservation
from products.queries import ORDERINGS, ProductFilters
from products.store import Found, collection, find_one, model_from_document

__all__ = [
    "ORDERINGS",
    "ProductFilters",
    "product_document",
    "product_get",
    "product_list",
    "product_list_legacy",
    "reservation_get",
    "review_list",
]


def product_list(*, filters: ProductFilters) -> Found:
    """Products matching every given filter, as raw documents; ``search`` is a
    case-insensitive literal match."""
    return Found(queries.catalogue(filters=filters), documents=True)


def product_list_legacy(
    *, category: str | None = None, title: str | None = None, product_id: ObjectId | None = None
) -> Found:
    """The old ``/product/list`` call, as raw documents: exact matches on plain, validated
    values only."""
    return Found(
        queries.catalogue_legacy(category=category, title=title, product_id=product_id),
        documents=True,
    )


def product_get(*, product_id: str) -> Product | None:
    """The product with that id; None for an unknown or malformed id."""
    object_id = parse_object_id(product_id)
    if object_id is None:
        return None
    query = queries.product_by_id(product_id=object_id)
    document = collection(Product).find_one(query.filter)
    return None if document is None else model_from_document(Product, document)


def product_document(
    *, product_id: str, fields: tuple[str, ...] | None = None
) -> dict[str, Any] | None:
    """The stored product with that id, as a raw document (only ``fields`` if given); None for
    an unknown or malformed id."""
    object_id = parse_object_id(product_id)
    if object_id is None:
        return None
    projection = None if fields is None else dict.fromkeys(fields, 1)
    query = queries.product_by_id(product_id=object_id, projection=projection)
    return collection(Product).find_one(query.filter, query.projection)


def review_list(*, product: Product) -> Found:
    return Found(queries.reviews_of_product(product_id=product.pk))


def reservation_get(*, order_id: str) -> Reservation | None:
    return find_one(Reservation, queries.reservation_of_order(order_id=order_id).filter)
