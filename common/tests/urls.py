from django.urls import include, path
from rest_framework import serializers
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from ecommerce_common.internal_auth import InternalTokenAuthentication, IsInternalService
from ecommerce_common.throttling import OrderCreateThrottle
from ecommerce_common.user_auth import UserTokenAuthentication


class EchoSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=5)


@api_view(["GET"])
@authentication_classes([InternalTokenAuthentication])
@permission_classes([IsInternalService])
def internal_view(request):
    return Response({"ok": True})


@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@authentication_classes([UserTokenAuthentication])
@permission_classes([IsAuthenticated])
def me_view(request):
    return Response({"id": request.user.id, "role": request.user.role})


@api_view(["POST"])
@permission_classes([AllowAny])
def echo_view(request):
    serializer = EchoSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return Response(serializer.validated_data)


@api_view(["GET", "POST"])
@authentication_classes([UserTokenAuthentication])
@permission_classes([IsAuthenticated])
@throttle_classes([OrderCreateThrottle])
def limited_write_view(request):
    return Response({"ok": True})


@api_view(["GET"])
@permission_classes([AllowAny])
def item_view(request, item_id: int):
    return Response({"id": item_id})


urlpatterns = [
    path("", include("ecommerce_common.urls")),
    path("internal/ping", internal_view),
    path("me", me_view),
    path("echo", echo_view),
    path("limited", limited_write_view),
    path("items/<int:item_id>", item_view),
]

handler404 = "ecommerce_common.errors.handler404"
handler500 = "ecommerce_common.errors.handler500"
