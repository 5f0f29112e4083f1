"""Writes to the catalogue: create, change and delete products; post reviews.

Stock moves live in ``products.stock``; raw writes reach the store through ``products.store``.
Product edits write only the fields they change (never a whole document), and a new quantity
is applied as a difference, so they cannot overwrite stock that a reservation moved in the
meantime.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django.db import IntegrityError
from django.utils import timezone

from products.errors import (
    DuplicateReview,
    OwnProductReview,
    ProductHasReservations,
    StockChanged,
)
from products.models import Product, Review
from products.store import collection

logger = logging.getLogger(__name__)

# Fields a seller may change; ``quantity`` sets the available stock (a restock).
EDITABLE_FIELDS = frozenset(
    {"title", "description", "price", "category", "quantity", "image_url", "tags"}
)


def product_create(
    *,
    seller: str,
    title: str,
    price: Decimal,
    category: str,
    quantity: int,
    image_url: str,
    description: str = "",
    tags: list[str] | None = None,
) -> Product:
    product = Product.objects.create(
        seller=seller,
        title=title,
        description=description,
        price=price,
        category=category,
        quantity=quantity,
        image_url=image_url,
        tags=tags or [],
    )
    # Read back so timestamps are what MongoDB keeps (milliseconds), as every later read shows.
    product.refresh_from_db()
    logger.info("product created", extra={"product_id": str(product.pk), "seller": seller})
    return product


def product_update(*, product: Product, changes: dict[str, Any]) -> Product:
    """Apply ``changes`` (a subset of ``EDITABLE_FIELDS``) with one ``$set`` of those fields.

    A new ``quantity`` is a restock: see ``_restock``. When it is refused nothing changes.
    """
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if changes:
        fields = dict(changes)
        if "quantity" in fields:
            _restock(product, quantity=fields.pop("quantity"))
        Product.objects.filter(pk=product.pk).update(**fields, updated_at=timezone.now())
        product.refresh_from_db()
        logger.info(
            "product updated", extra={"product_id": str(product.pk), "fields": sorted(changes)}
        )
    return product


def _restock(product: Product, *, quantity: int) -> None:
    """Change available stock by the difference between ``quantity`` and the ``product.quantity``
    the seller saw, with one ``$inc``, so reservations and releases landing meanwhile are kept.

    A decrease is guarded by available stock: when orders took so much meanwhile that it would
    go below zero, ``StockChanged`` is raised and nothing changes.
    """
    difference = quantity - product.quantity
    if difference == 0:
        return
    products = collection(Product)
    match: dict[str, Any] = {"_id": product.pk}
    if difference < 0:
        match["quantity"] = {"$gte": -difference}
    if products.update_one(match, {"$inc": {"quantity": difference}}).modified_count == 0:
        available = Product.objects.filter(pk=product.pk).values_list("quantity", flat=True).first()
        raise StockChanged(
            errors={
                "quantity": f"Only {available or 0} available now, so {-difference} cannot be "
                "taken off sale."
            }
        )


def product_delete(*, product: Product) -> None:
    """Delete the product and its reviews, unless open reservations hold some of its stock."""
    products = collection(Product)
    # One conditional delete: a reservation arriving meanwhile either lands first (and the
    # delete refuses) or finds no product.
    result = products.delete_one({"_id": product.pk, "reserved": 0})
    if result.deleted_count == 0:
        if Product.objects.filter(pk=product.pk).exists():
            raise ProductHasReservations()
        return
    Review.objects.filter(product_id=product.pk).delete()
    logger.info("product deleted", extra={"product_id": str(product.pk)})


def review_create(
    *, product: Product, user_id: str, rating: int, title: str = "", description: str = ""
) -> Review:
    """Post the user's one review of the product and count it into the product's rating.

    The seller cannot review what they sell (403 ``own_product_review``).
    """
    if product.seller == user_id:
        raise OwnProductReview()
    try:
        review = Review.objects.create(
            product=product, user_id=user_id, rating=rating, title=title, description=description
        )
    except IntegrityError as exc:
        raise DuplicateReview() from exc
    # $inc is atomic per document, so concurrent reviews never lose a count.
    products = collection(Product)
    products.update_one({"_id": product.pk}, {"$inc": {"rating_total": rating, "review_count": 1}})
    product.refresh_from_db(fields=["rating_total", "review_count"])
    logger.info("review posted", extra={"product_id": str(product.pk), "user_id": user_id})
    return review


def review_delete(*, review: Review) -> None:
    """Remove a review (moderation) and take it out of the product's rating."""
    reviews = collection(Review)
    if reviews.delete_one({"_id": review.pk}).deleted_count == 0:
        return  # Already gone: counted out by whoever deleted it.
    products = collection(Product)
    products.update_one(
        {"_id": review.product_id}, {"$inc": {"rating_total": -review.rating, "review_count": -1}}
    )
    logger.info("review deleted", extra={"product_id": str(review.product_id)})
