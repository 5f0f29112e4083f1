"""The catalogue (``Product``), its reviews and the per-order stock ``Reservation``.

Stock columns are never written through ``Model.save()``: every stock change is
one conditional atomic update in ``products.stock``, which also keeps the stock
held per in-flight order on the product document (``holds``, not mapped by the
ORM), so each per-product step happens once per order id, and the tokens of
releases of committed orders in flight (``returns``). The ``Reservation`` is
the record of what an order reserved or bought; past sales are not kept on the
product.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django_mongodb_backend.fields import ArrayField

from products.constants import MAX_RATING, MAX_TAG_LENGTH, MIN_RATING, Category, ReservationState


class Product(models.Model):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    price = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    category = models.CharField(max_length=32, choices=Category.choices)
    quantity = models.PositiveIntegerField(default=0, help_text="Available to sell.")
    reserved = models.PositiveIntegerField(default=0, help_text="Held by open reservations.")
    sold = models.PositiveIntegerField(default=0, help_text="Committed by confirmed orders.")
    image_url = models.CharField(max_length=2048)
    tags = ArrayField(models.CharField(max_length=MAX_TAG_LENGTH), default=list, blank=True)
    seller = models.CharField(max_length=64, help_text="The id of the user who listed it.")
    rating_total = models.PositiveIntegerField(default=0)
    review_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "products"
        ordering = ["-created_at"]
        # The catalogue's filters each ride one index; each ordering (with the id that breaks
        # ties) is one compound index, so an unfiltered page is an index walk, not a scan and
        # a sort (products.queries; proven by tests/test_indexes.py). The category's index
        # carries the price and the id: a category's price range is one range of it, and a
        # category by price is an index walk on MongoDB; SecantusDB, which sorts a filtered
        # find in Python, gets the category's products already in price order (its sort
        # compares Decimal128 prices several times slower than dates: bench/FINDINGS.md).
        indexes = [
            models.Index(fields=["category", "price", "id"], name="product_category_price_idx"),
            models.Index(fields=["seller"], name="product_seller_idx"),
            models.Index(fields=["tags"], name="product_tags_idx"),
            models.Index(fields=["-created_at", "-id"], name="product_created_id_idx"),
            models.Index(fields=["price", "id"], name="product_price_id_idx"),
            models.Index(fields=["title", "id"], name="product_title_id_idx"),
            models.Index(fields=["review_count", "id"], name="product_reviews_id_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def rating(self) -> Decimal:
        return average_rating(rating_total=self.rating_total, review_count=self.review_count)


def average_rating(*, rating_total: int, review_count: int) -> Decimal:
    """The rating a product shows: the mean of its reviews, 0.00 without any."""
    if not review_count:
        return Decimal("0.00")
    return (Decimal(rating_total) / Decimal(review_count)).quantize(Decimal("0.01"))


class Review(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="reviews")
    user_id = models.CharField(max_length=64)
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(MIN_RATING), MaxValueValidator(MAX_RATING)]
    )
    title = models.CharField(max_length=200, blank=True, default="")
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "product_reviews"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["product", "user_id"], name="one_review_per_user"),
        ]
        indexes = [models.Index(fields=["product", "-created_at"], name="review_product_idx")]

    def __str__(self) -> str:
        return f"{self.rating}/5 by {self.user_id}"


class Reservation(models.Model):
    """The stock an order holds: its items (with the price snapshot) and where it stands.

    A release out of COMMITTED records its token, and marks each item ``returned: true`` once
    that line's stock is back (see ``products.stock``).
    """

    order_id = models.CharField(max_length=64, unique=True)
    state = models.CharField(
        max_length=16, choices=ReservationState.choices, default=ReservationState.PENDING
    )
    items = models.JSONField(default=list, help_text="[{productId, title, unitPrice, quantity}]")
    release_token = models.CharField(
        max_length=128,
        blank=True,
        default="",
        help_text="Set by the release that moved it out of committed: the mark its returns consume.",
    )
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "stock_reservations"
        ordering = ["-created_at"]
        indexes = [
            # Lookups by order id. The unique constraint's index cannot serve them: the backend
            # makes it partial (``{order_id: {$type: "string"}}``), and neither MongoDB nor
            # SecantusDB uses a partial index for a query that does not repeat its predicate.
            models.Index(fields=["order_id", "state"], name="reservation_order_state_idx"),
            models.Index(fields=["state", "expires_at"], name="reservation_expiry_idx"),
            models.Index(fields=["state", "created_at"], name="reservation_pending_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} ({self.state})"
