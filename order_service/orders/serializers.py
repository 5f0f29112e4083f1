"""Request validation and response shapes for the order API (camelCase, as the old clients use)."""

from __future__ import annotations

import re
from decimal import Decimal

from django.conf import settings
from rest_framework import serializers

from ecommerce_common.api import StrictIntegerField
from orders.models import Order, OrderItem, StatusHistory
from orders.status import OrderStatus

PRODUCT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ProductIdField(serializers.CharField):
    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            raise serializers.ValidationError("productId must be a string.")
        value = super().to_internal_value(data)
        if not PRODUCT_ID.match(value):
            raise serializers.ValidationError("productId is not a valid product id.")
        return value


# Beyond this a quantity is not a number of units anyone orders (400); the configured cap per
# line (ORDER_MAX_QUANTITY_PER_LINE, 409 line_quantity_limit) is orders.services' business.
MAX_QUANTITY_ACCEPTED = 1_000_000


class OrderLineInputSerializer(serializers.Serializer):
    productId = ProductIdField()
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY_ACCEPTED)


class OrderCreateSerializer(serializers.Serializer):
    """``{items: [{productId, quantity}]}`` or the old ``{productId, quantity, totalAmount}``.

    The lines are given as sent (``orders.services.order_create`` merges the same product on
    several lines into one and caps the sum per line). ``totalAmount`` is never used as the price: if given, it must equal the
    total computed from the catalogue's prices, or the order is refused (400 total_mismatch).
    """

    items = OrderLineInputSerializer(many=True, required=False)
    productId = ProductIdField(required=False)
    quantity = StrictIntegerField(required=False, min_value=1, max_value=MAX_QUANTITY_ACCEPTED)
    totalAmount = serializers.DecimalField(
        required=False, max_digits=12, decimal_places=2, min_value=Decimal("0")
    )

    def validate(self, attrs: dict) -> dict:
        has_items = "items" in attrs
        has_single = "productId" in attrs or "quantity" in attrs
        if has_items and has_single:
            raise serializers.ValidationError(
                "Send either items or the single-product productId and quantity, not both."
            )
        if has_items:
            lines = [(line["productId"], line["quantity"]) for line in attrs["items"]]
            if not lines:
                raise serializers.ValidationError({"items": "An order needs at least one item."})
        elif has_single:
            missing = {
                k: "This field is required." for k in ("productId", "quantity") if k not in attrs
            }
            if missing:
                raise serializers.ValidationError(missing)
            lines = [(attrs["productId"], attrs["quantity"])]
        else:
            raise serializers.ValidationError({"items": "An order needs at least one item."})
        if len(lines) > settings.ORDER_MAX_LINES:
            raise serializers.ValidationError(
                {"items": f"An order has at most {settings.ORDER_MAX_LINES} lines."}
            )
        return {"lines": lines, "total_amount": attrs.get("totalAmount")}


class OrderItemSerializer(serializers.ModelSerializer):
    productId = serializers.CharField(source="product_id")
    unitPrice = serializers.DecimalField(source="unit_price", max_digits=12, decimal_places=2)

    class Meta:
        model = OrderItem
        fields = ["productId", "title", "unitPrice", "quantity"]


class OrderSerializer(serializers.ModelSerializer):
    userId = serializers.CharField(source="user_id")
    items = OrderItemSerializer(many=True, source="lines")
    totalAmount = serializers.DecimalField(source="total_amount", max_digits=12, decimal_places=2)
    statusLabel = serializers.CharField(source="status_label")
    expiresAt = serializers.DateTimeField(source="payment_deadline")
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    class Meta:
        model = Order
        fields = [
            "id",
            "userId",
            "items",
            "totalAmount",
            "currency",
            "status",
            "statusLabel",
            "expiresAt",
            "createdAt",
            "updatedAt",
        ]


class StatusHistorySerializer(serializers.ModelSerializer):
    # "from" is a Python keyword, so the field is declared in get_fields.
    to = serializers.CharField(source="to_status")
    reason = serializers.CharField()
    eventId = serializers.CharField(source="event_id", allow_null=True)
    publishedEventId = serializers.UUIDField(source="published_event_id", allow_null=True)
    createdAt = serializers.DateTimeField(source="created_at")

    class Meta:
        model = StatusHistory
        fields = ["to", "reason", "eventId", "publishedEventId", "createdAt"]

    def get_fields(self) -> dict:
        fields = super().get_fields()
        fields["from"] = serializers.CharField(source="from_status", allow_null=True)
        return {"from": fields.pop("from"), **fields}

    def to_representation(self, instance: StatusHistory) -> dict:
        data = super().to_representation(instance)
        data["from"] = data["from"] or None
        return data


class CurrentStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    label = serializers.CharField()
    createdAt = serializers.DateTimeField(help_text="When the order reached this status.")


class OrderStatusOutputSerializer(serializers.Serializer):
    """The shape ``OrderStatusSerializer`` answers, for the OpenAPI schema."""

    orderId = serializers.UUIDField()
    orderStatus = CurrentStatusSerializer()
    history = StatusHistorySerializer(many=True)


class OrderStatusSerializer(serializers.Serializer):
    """``{orderStatus: {status, label, createdAt}, history: [...]}`` (the old system's shape);
    ``createdAt`` is when the order reached its current status."""

    def to_representation(self, instance: dict) -> dict:
        order: Order = instance["order"]
        history: list[StatusHistory] = instance["history"]
        reached = history[-1].created_at if history else order.updated_at
        return {
            "orderId": str(order.id),
            "orderStatus": {
                "status": order.status,
                "label": order.status_label,
                "createdAt": serializers.DateTimeField().to_representation(reached),
            },
            "history": StatusHistorySerializer(history, many=True).data,
        }


class OrderPaySerializer(serializers.Serializer):
    paymentToken = serializers.CharField(max_length=255, trim_whitespace=True)


class PaymentSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()


class InternalStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    eventId = serializers.CharField(max_length=100)


class OrderListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices, required=False)
