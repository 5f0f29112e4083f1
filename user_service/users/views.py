"""HTTP interface of user_service: validate input, call one service or selector, render output."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from ecommerce_common.api import InternalView
from ecommerce_common.user_auth import token_from_request
from users import serializers
from users.errors import InvalidToken
from users.selectors import access_token_authenticate
from users.services import (
    TokenPair,
    token_refresh,
    user_login,
    user_logout,
    user_password_change,
    user_register,
    user_update,
)
from users.throttling import RegisterThrottle, TokenRefreshThrottle

ERROR = serializers.ErrorOutputSerializer
ERROR_RESPONSES = {400: ERROR, 401: ERROR, 429: ERROR}


def client_ip(request: Request) -> str | None:
    """The caller's address (honouring ``NUM_PROXIES`` trusted proxies), as DRF throttles see it."""
    ident = BaseThrottle().get_ident(request)
    return ident[:255] if ident else None


def _set_auth_cookie(response: Response, access_token: str) -> None:
    response.set_cookie(
        settings.AUTH_COOKIE_NAME,
        access_token,
        max_age=int(jwt_settings.ACCESS_TOKEN_LIFETIME.total_seconds()),
        httponly=True,
        secure=settings.AUTH_COOKIE_SECURE,
        samesite="Lax",
        path="/",
    )


def _token_pair_response(*, message: str, tokens: TokenPair) -> Response:
    response = Response({"message": message, "token": tokens.access, "refresh": tokens.refresh})
    _set_auth_cookie(response, tokens.access)
    return response


class RegisterView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [RegisterThrottle]

    @extend_schema(
        request=serializers.RegisterInputSerializer,
        responses={201: serializers.RegisterOutputSerializer, **ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        data = serializers.RegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_register(
            first_name=data.validated_data["firstName"],
            last_name=data.validated_data["lastName"],
            email=data.validated_data["email"],
            password=data.validated_data["password"],
        )
        return Response(
            {
                "message": "User registered successfully.",
                "user": serializers.UserOutputSerializer(user).data,
            },
            status=status.HTTP_201_CREATED,
        )


class LoginView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    # Throttled on failures per email and per IP inside user_login, not per request.
    throttle_classes = []

    @extend_schema(
        request=serializers.LoginInputSerializer,
        responses={200: serializers.LoginOutputSerializer, **ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        data = serializers.LoginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _, tokens = user_login(
            email=data.validated_data["email"],
            password=data.validated_data["password"],
            client_ip=client_ip(request),
        )
        return _token_pair_response(message="Login successful.", tokens=tokens)


class TokenRefreshView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenRefreshThrottle]

    @extend_schema(
        description=(
            "Exchanges a refresh token for a new pair (and cookie) in the same session; the "
            "refresh token given is spent. Presenting a spent refresh token again is taken as "
            "theft: the answer is 401 and the whole session ends (every refresh token issued "
            "since its login and their access tokens), while the user's other sessions stay. "
            "Clients must therefore never send one refresh token twice, not even from two tabs "
            "at once: refresh one at a time and keep the newest pair."
        ),
        request=serializers.RefreshInputSerializer,
        responses={200: serializers.TokenPairOutputSerializer, **ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        data = serializers.RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tokens = token_refresh(refresh=data.validated_data["refresh"])
        return _token_pair_response(message="Token refreshed.", tokens=tokens)


def _cookie_cleared(response: Response) -> Response:
    response.delete_cookie(settings.AUTH_COOKIE_NAME, path="/", samesite="Lax")
    return response


class LogoutView(APIView):
    """``POST`` revokes; ``GET`` (the old clients') only clears the cookie: a GET is what any
    other site can make a browser send (a link, an image), so it must change nothing."""

    permission_classes = [IsAuthenticated]

    def get_authenticators(self) -> list:
        if getattr(self.request, "method", None) == "GET":
            return []
        return super().get_authenticators()

    def get_permissions(self) -> list:
        if getattr(self.request, "method", None) == "GET":
            return [AllowAny()]
        return super().get_permissions()

    @extend_schema(
        description=(
            "Revokes the access token used and clears the cookie; with `refresh`, also ends "
            "that refresh token's session (every refresh token issued since its login and "
            "their access tokens). A refresh token already revoked is accepted."
        ),
        request=serializers.LogoutInputSerializer,
        responses={200: serializers.MessageOutputSerializer, **ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        data = serializers.LogoutInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user_logout(
            user=request.user, access_token=request.auth, refresh=data.validated_data.get("refresh")
        )
        return _cookie_cleared(Response({"message": "Logged out."}))

    @extend_schema(
        description=(
            "Kept for the old clients: clears the `userAuthToken` cookie and nothing else; no "
            "token is read or revoked (a GET can be sent by any site). `POST` revokes."
        ),
        request=None,
        responses={200: serializers.MessageOutputSerializer},
    )
    def get(self, request: Request) -> Response:
        return _cookie_cleared(
            Response({"message": "Cookie cleared; POST /users/logout revokes the tokens."})
        )


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: serializers.UserOutputSerializer, 401: ERROR})
    def get(self, request: Request) -> Response:
        return Response(serializers.UserOutputSerializer(request.user).data)

    @extend_schema(
        request=serializers.UserUpdateInputSerializer,
        responses={200: serializers.UserOutputSerializer, **ERROR_RESPONSES},
    )
    def patch(self, request: Request) -> Response:
        data = serializers.UserUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_update(
            user=request.user,
            first_name=data.validated_data.get("firstName"),
            last_name=data.validated_data.get("lastName"),
            email=data.validated_data.get("email"),
        )
        return Response(serializers.UserOutputSerializer(user).data)


class PasswordChangeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        description=(
            "Changes the caller's password and ends every session of theirs: all refresh "
            "tokens are revoked and all access tokens refused (by the other services within "
            "their 30 s verification cache). The answer is a new pair (and cookie) in a new "
            "session, so the caller stays logged in; other devices must log in again. A wrong "
            "`currentPassword` is 400 `wrong_password`; repeated ones are 429, with the login's "
            "limits."
        ),
        request=serializers.PasswordChangeInputSerializer,
        responses={200: serializers.TokenPairOutputSerializer, **ERROR_RESPONSES},
    )
    def post(self, request: Request) -> Response:
        data = serializers.PasswordChangeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tokens = user_password_change(
            user=request.user,
            current_password=data.validated_data["currentPassword"],
            new_password=data.validated_data["newPassword"],
        )
        return _token_pair_response(message="Password changed.", tokens=tokens)


class VerifyView(InternalView):
    """Answers who an access token belongs to, for the other services (never cached here)."""

    throttle_classes = []

    @extend_schema(
        description="The access token goes in `Authorization: Bearer`.",
        responses={200: serializers.VerifyOutputSerializer, 401: ERROR, 403: ERROR},
    )
    def get(self, request: Request) -> Response:
        raw_token = token_from_request(request)
        if raw_token is None:
            raise InvalidToken("No access token given.")
        user = access_token_authenticate(raw_token=raw_token).user
        response = Response({"userId": str(user.pk), "email": user.email, "role": user.role})
        response["Cache-Control"] = "no-store"
        return response
