"""Service-to-service authentication for ``/internal`` routes.

A caller proves it is one of ours with ``X-Internal-Token`` matching one of
``settings.INTERNAL_API_TOKENS`` (a list, so secrets can be rotated), compared
in constant time. Use both classes on every internal view::

    authentication_classes = [InternalTokenAuthentication]
    permission_classes = [IsInternalService]
"""

from __future__ import annotations

import hmac

from django.conf import settings
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

HEADER = "X-Internal-Token"


class InternalService:
    """The authenticated principal of an internal call."""

    is_authenticated = True
    is_internal = True
    id = None
    role = "service"


def token_is_valid(token: str | None, accepted: list[str] | None = None) -> bool:
    if not token:
        return False
    candidate = token.encode()
    # Compare against every accepted token so timing does not reveal which matched.
    matches = [
        hmac.compare_digest(candidate, t.encode()) for t in accepted or settings.INTERNAL_API_TOKENS
    ]
    return any(matches)


class InternalTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[InternalService, str] | None:
        token = request.headers.get(HEADER)
        if token is None:
            return None
        if not token_is_valid(token):
            raise exceptions.AuthenticationFailed("Invalid internal token.")
        return InternalService(), token

    def authenticate_header(self, request: Request) -> str:
        return HEADER


class IsInternalService(permissions.BasePermission):
    def has_permission(self, request: Request, view: object) -> bool:
        return bool(getattr(request.user, "is_internal", False))
