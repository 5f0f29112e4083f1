"""DRF authentication for user_service's own routes: the access token, verified locally.

The token comes from ``Authorization: Bearer`` or the old system's ``userAuthToken`` cookie.
Revoked tokens and deactivated users are refused, as ``/internal/verify`` refuses them.
"""

from __future__ import annotations

from rest_framework import authentication, exceptions
from rest_framework.request import Request
from rest_framework_simplejwt.tokens import AccessToken

from ecommerce_common.user_auth import token_from_request
from users.errors import InvalidToken
from users.models import User
from users.selectors import access_token_authenticate


class AccessTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, AccessToken] | None:
        raw_token = token_from_request(request)
        if raw_token is None:
            return None
        try:
            verified = access_token_authenticate(raw_token=raw_token)
        except InvalidToken as exc:
            raise exceptions.AuthenticationFailed(InvalidToken.default_detail) from exc
        return verified.user, verified.token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
