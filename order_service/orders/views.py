"""The order API: thin views that validate, call one service or selector, and render."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ecommerce_common.api import errors
from ecommerce_common.pagination import PageNumberPagination
from ecommerce_common.throttling import OrderCreateThrottle, OrderPayThrottle
from orders import idempotency, selectors, services
from orders.models import Order
from orders.serializers import (
    OrderCreateSerializer,
    OrderListQuerySerializer,
    OrderPaySerializer,
    OrderSerializer,
    OrderStatusOutputSerializer,
    OrderStatusSerializer,
    PaymentSerializer,
)
from payments.services import order_pay

IDEMPOTENCY_HEADER = "Idempotency-Key"


# The output serializers keep no state of a request: one instance per process renders every
# answer. Building one per response (DRF constructs and binds every field, the items' serializer
# included) cost about ten times the rendering itself (bench/FINDINGS.md).
_ORDER = OrderSerializer()
_PAYMENT = PaymentSerializer()


def render_order(order: Order) -> dict[str, Any]:
    """The order's response body, from the order and the items it holds (``Order.lines``)."""
    return _ORDER.to_representation(order)


def render_order_stored(order: Order) -> dict[str, Any]:
    """``render_order`` as plain JSON data, exactly the bytes the response carries, for the
    Idempotency-Key record to replay."""
    return json.loads(JSONRenderer().render(render_order(order)))


class OrderListCreateView(APIView):
    # Read by the schema generator, which documents the page envelope and page parameters.
    pagination_class = PageNumberPagination
    throttle_classes = [OrderCreateThrottle]  # POST only

    @extend_schema(
        parameters=[OrderListQuerySerializer],
        responses={200: OrderSerializer(many=True), **errors(400, 401, 404)},
    )
    def get(self, request: Request) -> Response:
        query = OrderListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        orders = selectors.order_list(user=request.user, status=query.validated_data.get("status"))
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(orders, request, view=self)
        return paginator.get_paginated_response([render_order(order) for order in page])

    @extend_schema(
        description=(
            "Reserves the stock and stores the order in `payment_pending`. 409: "
            "`insufficient_stock` (nothing reserved), `line_quantity_limit` (more than "
            "ORDER_MAX_QUANTITY_PER_LINE units of one product, 100 unless configured), "
            "`too_many_open_orders` (ORDER_MAX_OPEN_PER_USER orders, 5 unless configured, "
            "await payment). 429 with `Retry-After` past the write rate limits."
        ),
        request=OrderCreateSerializer,
        responses={201: OrderSerializer, **errors(400, 401, 409, 422, 429, 503)},
        parameters=[OpenApiParameter(IDEMPOTENCY_HEADER, str, OpenApiParameter.HEADER)],
    )
    def post(self, request: Request) -> Response:
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is not None:
            idempotency.idempotency_key_validate(key)
        serializer = OrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if key is None:
            order = services.order_create(
                user_id=request.user.id, items=data["lines"], claimed_total=data["total_amount"]
            )
            return Response(render_order(order), status=status.HTTP_201_CREATED)
        code, body, replayed = idempotency.order_create_idempotent(
            user_id=request.user.id,
            key=key,
            request_data=request.data,
            items=data["lines"],
            claimed_total=data["total_amount"],
            render=render_order_stored,
        )
        return Response(body, status=code, headers={"Idempotent-Replayed": str(replayed).lower()})


class OrderDetailView(APIView):
    @extend_schema(responses={200: OrderSerializer, **errors(401, 404)})
    def get(self, request: Request, order_id: UUID) -> Response:
        order = selectors.order_get(user=request.user, order_id=order_id)
        return Response(render_order(order))


class OrderStatusView(APIView):
    @extend_schema(responses={200: OrderStatusOutputSerializer, **errors(401, 404)})
    def get(self, request: Request, order_id: UUID) -> Response:
        order = selectors.order_get(user=request.user, order_id=order_id)
        history = selectors.order_history(order=order)
        return Response(OrderStatusSerializer({"order": order, "history": history}).data)


class OrderPayView(APIView):
    throttle_classes = [OrderPayThrottle]

    @extend_schema(
        request=OrderPaySerializer,
        responses={200: OrderSerializer, **errors(400, 401, 402, 404, 409, 429, 503)},
    )
    def post(self, request: Request, order_id: UUID) -> Response:
        serializer = OrderPaySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with selectors.order_found():
            order, payment = order_pay(
                order_id=order_id,
                payment_token=serializer.validated_data["paymentToken"],
                user=request.user,
            )
        body = render_order(order)
        body["payment"] = _PAYMENT.to_representation(payment)
        return Response(body)


class OrderCancelView(APIView):
    @extend_schema(request=None, responses={200: OrderSerializer, **errors(401, 404, 409)})
    def post(self, request: Request, order_id: UUID) -> Response:
        order = selectors.order_get(user=request.user, order_id=order_id)
        order = services.order_cancel(order_id=order.pk, by_admin=order.user_id != request.user.id)
        return Response(render_order(order))
