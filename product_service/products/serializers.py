"""Request validation and response shapes (the old system's camelCase field names)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ecommerce_common.api import StrictIntegerField
from products.constants import (
    MAX_DESCRIPTION_LENGTH,
    MAX_IMAGE_URL_LENGTH,
    MAX_RATING,
    MAX_REVIEW_DESCRIPTION_LENGTH,
    MAX_REVIEW_TITLE_LENGTH,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    MAX_TITLE_LENGTH,
    MIN_RATING,
    Category,
)
from products.errors import InvalidFilter
from products.ids import parse_object_id
from products.models import Product, average_rating
from products.selectors import ORDERINGS
from products.store import from_store, store_converters

MAX_PRICE = Decimal("9999999999.99")
MAX_ITEM_QUANTITY = 100_000
MAX_RESERVATION_ITEMS = 100
ORDER_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


class ObjectIdField(serializers.CharField):
    default_error_messages = {"invalid_id": "Not a valid product id."}

    def to_internal_value(self, data: Any) -> Any:
        object_id = parse_object_id(data)
        if object_id is None:
            self.fail("invalid_id")
        return object_id


def _is_storable(value: str) -> bool:
    """No NUL and no lone surrogates: text MongoDB stores as given (UTF-8 cannot encode them)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "maxLength": MAX_TAG_LENGTH},
        "maxItems": MAX_TAGS,
        "description": f"At most {MAX_TAGS} tags of {MAX_TAG_LENGTH} characters; a single "
        "string is taken as a one-element list (old clients).",
    }
)
class TagsField(serializers.Field):
    """A list of strings; a single string is taken as a one-element list (old clients)."""

    default_error_messages = {
        "invalid": "Tags must be a list of strings.",
        "not_text": "A tag may not contain NUL characters or lone surrogates.",
        "too_many": f"At most {MAX_TAGS} tags.",
        "too_long": f"A tag has at most {MAX_TAG_LENGTH} characters.",
    }

    def to_internal_value(self, data: Any) -> list[str]:
        if isinstance(data, str):
            data = [data]
        if not isinstance(data, list) or not all(isinstance(tag, str) for tag in data):
            self.fail("invalid")
        tags: list[str] = []
        for tag in (t.strip() for t in data):
            if not _is_storable(tag):
                self.fail("not_text")
            if len(tag) > MAX_TAG_LENGTH:
                self.fail("too_long")
            if tag and tag not in tags:
                tags.append(tag)
        if len(tags) > MAX_TAGS:
            self.fail("too_many")
        return tags

    def to_representation(self, value: list[str]) -> list[str]:
        return list(value or [])


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not accept (e.g. ``seller``) instead of silently ignoring them."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)


# --- products -----------------------------------------------------------------------------------


class ProductInputSerializer(StrictSerializer):
    title = serializers.CharField(max_length=MAX_TITLE_LENGTH)
    description = serializers.CharField(
        max_length=MAX_DESCRIPTION_LENGTH, allow_blank=True, required=False, default=""
    )
    price = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), max_value=MAX_PRICE
    )
    category = serializers.ChoiceField(choices=Category.choices)
    quantity = StrictIntegerField(min_value=0, max_value=10_000_000)
    imageUrl = serializers.CharField(
        max_length=MAX_IMAGE_URL_LENGTH,
        source="image_url",
        help_text="Any non-empty string (old clients sent file names such as `image`).",
    )
    tags = TagsField(required=False, default=list)


class ProductSerializer(serializers.Serializer):
    id = serializers.CharField(read_only=True)
    title = serializers.CharField()
    description = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    category = serializers.CharField()
    quantity = serializers.IntegerField()
    imageUrl = serializers.CharField(source="image_url")
    tags = TagsField()
    seller = serializers.CharField()
    rating = serializers.DecimalField(max_digits=3, decimal_places=2)
    reviewCount = serializers.IntegerField(source="review_count")
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")


class ProductQuantitySerializer(serializers.Serializer):
    quantity = serializers.IntegerField()


Reader = Callable[[dict[str, Any], BaseDatabaseWrapper], Any]


class DocumentRepresentation:
    """A serializer's answer for a raw stored document (as pymongo returns it): equal to
    ``serializer_class(instance).data`` for the model instance the ORM would load from it,
    without building that instance or a serializer per document.

    Each stored value is converted as the ORM converts it (``store.from_store``) and
    rendered by the serializer's own field, bound once per process; what a value the
    serializer reads is not a stored field (a model property) comes from ``computed``. Only
    DRF's per-object work is skipped (a deep copy of every field bound per serializer,
    attribute lookups through ``source``): on a page of 20 products it cost more than reading
    the page from the store (bench/FINDINGS.md, "Catalogue miss path").
    """

    def __init__(
        self,
        serializer_class: type[serializers.Serializer],
        model: type[Model],
        *,
        computed: dict[str, Reader] | None = None,
    ) -> None:
        self.serializer_class = serializer_class
        self.model = model
        self.computed = computed or {}

    def stored(self, name: str) -> Reader:
        """Reads the model field ``name`` from a document, converted as the ORM does."""
        field = self.model._meta.get_field(name)
        column, expression = field.column, field.cached_col

        def read(document: dict[str, Any], connection: BaseDatabaseWrapper) -> Any:
            value = document.get(column)
            for convert in store_converters(field, connection):
                value = convert(value, expression, connection)
            return value

        return read

    @cached_property
    def _plan(self) -> list[tuple[str, serializers.Field, Reader]]:
        return [
            (name, field, self.computed.get(field.source) or self.stored(field.source))
            for name, field in self.serializer_class().fields.items()
        ]

    def __call__(self, document: dict[str, Any]) -> dict[str, Any]:
        return self.many([document])[0]

    def many(self, documents: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        plan = self._plan
        connection = connections[self.model.objects.db]
        representations = []
        for document in documents:
            representation = {}
            for name, field, read in plan:
                value = read(document, connection)
                # As Serializer.to_representation: a missing value is null, not rendered.
                representation[name] = None if value is None else field.to_representation(value)
            representations.append(representation)
        return representations


def _product_rating(document: dict[str, Any], connection: BaseDatabaseWrapper) -> Decimal:
    total, count = (
        from_store(field, document.get(field.column), connection=connection)
        for field in map(Product._meta.get_field, ("rating_total", "review_count"))
    )
    return average_rating(rating_total=total, review_count=count)


product_representation = DocumentRepresentation(
    ProductSerializer, Product, computed={"rating": _product_rating}
)
product_quantity_representation = DocumentRepresentation(ProductQuantitySerializer, Product)


class ProductListQuerySerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    seller = serializers.CharField(max_length=64, required=False)
    tags = serializers.CharField(
        max_length=1000, required=False, help_text="Comma-separated; matches any of them."
    )
    minPrice = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), required=False
    )
    maxPrice = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), required=False
    )
    search = serializers.CharField(max_length=200, required=False)
    ordering = serializers.ChoiceField(
        choices=[name for key in ORDERINGS for name in (key, f"-{key}")],
        required=False,
        default="-createdAt",
    )

    def validate_tags(self, value: str) -> list[str]:
        return [tag.strip() for tag in value.split(",") if tag.strip()][:MAX_TAGS]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        low, high = attrs.get("minPrice"), attrs.get("maxPrice")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"minPrice": "minPrice is above maxPrice."})
        return attrs


LEGACY_FILTER_KEYS = frozenset({"category", "title", "id"})


def _is_plain_text(value: object) -> bool:
    """A string MongoDB can store as given: short, no NUL, no lone surrogates."""
    return isinstance(value, str) and len(value) <= 200 and _is_storable(value)


def parse_legacy_filter(raw: str | None) -> dict[str, Any]:
    """The old ``?filter=<JSON>``: an object of plain strings under category/title/id only.

    Anything else (operators such as ``{"$ne": ...}``, nested objects, other keys,
    bad JSON, a malformed id) is refused here, before any query is built.
    """
    if raw is None or not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise InvalidFilter("filter is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise InvalidFilter("filter must be a JSON object.")
    unknown = sorted(set(data) - LEGACY_FILTER_KEYS)
    if unknown:
        raise InvalidFilter(
            "filter accepts only category, title and id.",
            errors=dict.fromkeys(unknown, "Not a filter key."),
        )
    parsed: dict[str, Any] = {}
    for key, value in data.items():
        if not _is_plain_text(value):
            raise InvalidFilter(
                f"filter {key} must be a plain string.", errors={key: "Not a string."}
            )
        parsed[key] = value
    if "id" in parsed:
        object_id = parse_object_id(parsed["id"])
        if object_id is None:
            raise InvalidFilter(
                "filter id is not a valid product id.", errors={"id": ["Not a valid product id."]}
            )
        parsed["id"] = object_id
    return parsed


# --- reviews ------------------------------------------------------------------------------------


class ReviewInputSerializer(StrictSerializer):
    rating = StrictIntegerField(min_value=MIN_RATING, max_value=MAX_RATING)
    title = serializers.CharField(
        max_length=MAX_REVIEW_TITLE_LENGTH, allow_blank=True, required=False, default=""
    )
    description = serializers.CharField(
        max_length=MAX_REVIEW_DESCRIPTION_LENGTH, allow_blank=True, required=False, default=""
    )


class ReviewSerializer(serializers.Serializer):
    id = serializers.CharField()
    productId = serializers.CharField(source="product_id")
    userId = serializers.CharField(source="user_id")
    rating = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    createdAt = serializers.DateTimeField(source="created_at")


# --- stock (internal) ---------------------------------------------------------------------------


class OrderIdField(serializers.CharField):
    default_error_messages = {"invalid_order_id": "Not a valid order id."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid_order_id")
        value = super().to_internal_value(data)
        if not ORDER_ID_PATTERN.match(value):
            self.fail("invalid_order_id")
        return value


class ReservationItemInputSerializer(serializers.Serializer):
    productId = ObjectIdField()
    quantity = StrictIntegerField(min_value=1, max_value=MAX_ITEM_QUANTITY)


class ReservationInputSerializer(serializers.Serializer):
    orderId = OrderIdField(max_length=64)
    items = ReservationItemInputSerializer(
        many=True, allow_empty=False, max_length=MAX_RESERVATION_ITEMS
    )
    ttlSeconds = StrictIntegerField(min_value=1, required=False)

    def validate_ttlSeconds(self, value: int) -> int:
        if value > settings.RESERVATION_MAX_TTL_SECONDS:
            raise serializers.ValidationError(
                f"At most {settings.RESERVATION_MAX_TTL_SECONDS} seconds."
            )
        return value


class ProductQuantityCommitSerializer(serializers.Serializer):
    quantity = StrictIntegerField(min_value=1, max_value=MAX_ITEM_QUANTITY)
    orderId = OrderIdField(max_length=64)


class ReservationItemSerializer(serializers.Serializer):
    productId = serializers.CharField()
    title = serializers.CharField()
    unitPrice = serializers.DecimalField(max_digits=12, decimal_places=2)
    quantity = serializers.IntegerField()


class ReservationSerializer(serializers.Serializer):
    orderId = serializers.CharField(source="order_id")
    status = serializers.CharField(source="state")
    expiresAt = serializers.DateTimeField(source="expires_at")
    items = ReservationItemSerializer(many=True)


class ReservationStatusSerializer(serializers.Serializer):
    orderId = serializers.CharField(source="order_id")
    status = serializers.CharField(source="state")


class ExpiredCountSerializer(serializers.Serializer):
    released = serializers.IntegerField()


class StockAuditFindingSerializer(serializers.Serializer):
    kind = serializers.CharField()
    productId = serializers.CharField()
    orderId = serializers.CharField(allow_null=True)
    detail = serializers.CharField()
    mended = serializers.BooleanField()


class StockAuditSerializer(serializers.Serializer):
    repair = serializers.BooleanField()
    products = serializers.IntegerField()
    reservations = serializers.IntegerField()
    busyProducts = serializers.IntegerField()
    mended = serializers.IntegerField()
    unmended = serializers.IntegerField()
    findings = StockAuditFindingSerializer(many=True)
