"""The internal API (CONVENTIONS.md), for integration_service: ``X-Internal-Token`` required."""

from __future__ import annotations

from uuid import UUID

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from ecommerce_common.api import InternalView, errors
from orders import services
from orders.outbox import outbox_publish_pending
from orders.selectors import order_found
from orders.serializers import InternalStatusSerializer, OrderSerializer
from orders.views import render_order
from payments.reconcile import payments_reconcile_due
from payments.refunds import payments_refund_pending


class InternalOrderStatusView(InternalView):
    @extend_schema(
        request=InternalStatusSerializer,
        responses={200: OrderSerializer, **errors(400, 401, 403, 404, 409)},
    )
    def put(self, request: Request, order_id: UUID) -> Response:
        serializer = InternalStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with order_found():
            order = services.order_apply_event(
                order_id=order_id,
                to_status=data["status"],
                reason=data["reason"],
                event_id=data["eventId"],
            )
        return Response(render_order(order))


class InternalOutboxRelayView(InternalView):
    @extend_schema(
        request=None,
        responses={
            200: inline_serializer(
                "OutboxRelayResult",
                {"published": serializers.IntegerField(), "refunded": serializers.IntegerField()},
            ),
            **errors(401, 403),
        },
    )
    def post(self, request: Request) -> Response:
        # The periodic sweep also retries refunds the gateway could not make at the time.
        return Response(
            {"published": outbox_publish_pending(), "refunded": payments_refund_pending()}
        )


class InternalOrdersExpireView(InternalView):
    @extend_schema(
        request=None,
        responses={
            200: inline_serializer(
                "OrdersExpireResult",
                {"expired": serializers.IntegerField(), "reconciled": serializers.IntegerField()},
            ),
            **errors(401, 403),
        },
    )
    def post(self, request: Request) -> Response:
        # The expiry tick first settles payments whose outcome is unknown (payments/reconcile.py):
        # a charge that went through completes its order rather than letting it expire.
        reconciled = payments_reconcile_due()
        return Response({"expired": services.orders_expire_overdue(), "reconciled": reconciled})
