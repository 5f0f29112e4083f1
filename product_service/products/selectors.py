"""Reads: the catalogue list and its filters, the old filtered list, reviews, reservations."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from bson import ObjectId
from django.db.models import Q, QuerySet

from products.ids import parse_object_id
from products.models import Product, Reservation, Review

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


def product_list(*, filters: ProductFilters) -> QuerySet[Product]:
    """Products matching every given filter; ``search`` is a case-insensitive literal match."""
    queryset = Product.objects.all()
    if filters.category:
        queryset = queryset.filter(category=filters.category)
    if filters.seller:
        queryset = queryset.filter(seller=filters.seller)
    if filters.tags:
        queryset = queryset.filter(tags__overlap=filters.tags)
    if filters.min_price is not None:
        queryset = queryset.filter(price__gte=filters.min_price)
    if filters.max_price is not None:
        queryset = queryset.filter(price__lte=filters.max_price)
    if filters.search:
        # The user's text is matched literally (escaped), never run as a pattern.
        pattern = re.escape(filters.search)
        queryset = queryset.filter(
            Q(title__iregex=pattern) | Q(description__iregex=pattern) | Q(tags__iregex=pattern)
        )
    descending = filters.ordering.startswith("-")
    field_name = ORDERINGS[filters.ordering.lstrip("-")]
    prefix = "-" if descending else ""
    return queryset.order_by(f"{prefix}{field_name}", f"{prefix}id")


def product_list_legacy(
    *, category: str | None = None, title: str | None = None, product_id: ObjectId | None = None
) -> QuerySet[Product]:
    """The old ``/product/list`` call: exact matches on plain, validated values only."""
    queryset = Product.objects.all()
    if category is not None:
        queryset = queryset.filter(category=category)
    if title is not None:
        queryset = queryset.filter(title=title)
    if product_id is not None:
        queryset = queryset.filter(pk=product_id)
    return queryset.order_by("-created_at", "-id")


def product_get(*, product_id: str) -> Product | None:
    """The product with that id; None for an unknown or malformed id."""
    object_id = parse_object_id(product_id)
    if object_id is None:
        return None
    return Product.objects.filter(pk=object_id).first()


def review_list(*, product: Product) -> QuerySet[Review]:
    return Review.objects.filter(product=product).order_by("-created_at", "-id")


def reservation_get(*, order_id: str) -> Reservation | None:
    return Reservation.objects.filter(order_id=order_id).first()
