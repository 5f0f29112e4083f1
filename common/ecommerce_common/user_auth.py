"""Authenticating end users in services other than user_service.

A request's access token (``Authorization: Bearer`` or the old system's
``userAuthToken`` cookie) is checked by user_service's ``/internal/verify``.
A positive answer is cached for at most ``VERIFY_CACHE_SECONDS`` (≤ 30 s) and
never past the token's own expiry, so a revoked token dies within 30 s
everywhere; negative answers are never cached. The cache is the ``shared`` alias
(Redis when ``REDIS_URL`` is set, else per process), keyed by the token's SHA-256:
no token is stored.

The cookie is sent by browsers on cross-site requests too (``SameSite=Lax`` still lets a
top-level form POST through in some browsers and on old ones), so a cookie-authenticated
write (POST, PUT, PATCH, DELETE) whose ``Origin`` (or, without one, ``Referer``) names
another site than the API's own or one of ``TRUSTED_ORIGINS`` is refused with 403
``untrusted_origin`` before anything runs. A request naming no origin at all (the old
system's non-browser clients) and any ``Authorization: Bearer`` request are unaffected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from dataclasses import asdict, dataclass
from functools import cache
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest
from rest_framework import authentication, exceptions, status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request

from ecommerce_common.errors import ApiError, ServiceUnavailable
from ecommerce_common.http import ServiceCallError, ServiceClient
from ecommerce_common.metrics import VERIFY_CACHE
from ecommerce_common.settings import SHARED_CACHE_ALIAS, env

VERIFY_CACHE_HITS = VERIFY_CACHE.labels("hit")
VERIFY_CACHE_MISSES = VERIFY_CACHE.labels("miss")

COOKIE_NAME = "userAuthToken"
MAX_CACHE_SECONDS = 30
# Shared by every worker process and pod when REDIS_URL is set; keys are token hashes.
VERIFY_CACHE_ALIAS = SHARED_CACHE_ALIAS


@dataclass(frozen=True)
class RemoteUser:
    """The caller as user_service vouched for it."""

    id: str
    email: str
    role: str
    is_authenticated: bool = True
    is_internal: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def pk(self) -> str:
        return self.id


class UntrustedOrigin(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "untrusted_origin"
    default_detail = (
        "A write authenticated by the userAuthToken cookie must come from a trusted origin; "
        "send the token as Authorization: Bearer instead."
    )


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased ("" when it has none, e.g. ``null``)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ""
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


def request_origin_check(request: HttpRequest) -> None:
    """Refuse an unsafe request naming an origin other than the API's own or a trusted one."""
    if request.method in SAFE_METHODS:
        return
    claimed = request.headers.get("Origin")
    if claimed is None:
        claimed = request.headers.get("Referer")
        if not claimed:
            return  # a non-browser client: no site to forge the request from
    trusted = {_origin(url) for url in getattr(settings, "TRUSTED_ORIGINS", [])}
    trusted.add(f"{request.scheme}://{request.get_host()}".lower())
    origin = _origin(claimed)
    if not origin or origin not in trusted:
        raise UntrustedOrigin()


def token_from_request(request: Request) -> str | None:
    """The access token from the Authorization header, else from the ``userAuthToken`` cookie.

    The cookie on a write from an untrusted origin raises ``UntrustedOrigin`` (403).
    """
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    token = request.COOKIES.get(COOKIE_NAME) or None
    if token is not None:
        request_origin_check(request)
    return token


def token_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT, read without verifying it (only to bound the cache)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        return None


@cache
def _user_service() -> ServiceClient:
    return ServiceClient(
        settings.USER_SERVICE_URL,
        internal_token=settings.INTERNAL_API_TOKENS[0],
        read_timeout=3.0,
    )


def _cache_key(token: str) -> str:
    return "verify:" + hashlib.sha256(token.encode()).hexdigest()


def _cache_seconds(token: str, now: float) -> float:
    configured = getattr(settings, "VERIFY_CACHE_SECONDS", None)
    if configured is None:
        configured = env.int("VERIFY_CACHE_SECONDS", default=MAX_CACHE_SECONDS)
    limit = min(configured, MAX_CACHE_SECONDS)
    expiry = token_expiry(token)
    if expiry is None:
        return 0
    return min(limit, expiry - now)


def verify_token(token: str) -> RemoteUser | None:
    """The user a token belongs to, or None when user_service rejects it."""
    verify_cache = caches[VERIFY_CACHE_ALIAS]
    key = _cache_key(token)
    now = time.time()
    cached = verify_cache.get(key)
    if cached is not None and cached["expires"] > now:
        VERIFY_CACHE_HITS.inc()
        return RemoteUser(**cached["user"])
    VERIFY_CACHE_MISSES.inc()

    try:
        response = _user_service().get(
            "/internal/verify", headers={"Authorization": f"Bearer {token}"}
        )
    except ServiceCallError as exc:
        raise ServiceUnavailable("Cannot verify the token right now; try again.") from exc
    if response.status_code != 200:
        return None
    data = response.json()
    user = RemoteUser(id=str(data["userId"]), email=data["email"], role=data["role"])

    seconds = _cache_seconds(token, now)
    if seconds > 0:
        verify_cache.set(key, {"user": asdict(user), "expires": now + seconds}, timeout=seconds)
    return user


class UserTokenAuthentication(authentication.BaseAuthentication):
    """DRF authentication through user_service, for product_service and order_service."""

    def authenticate(self, request: Request) -> tuple[RemoteUser, str] | None:
        token = token_from_request(request)
        if token is None:
            return None
        user = verify_token(token)
        if user is None:
            raise exceptions.AuthenticationFailed("Token is invalid or expired.")
        return user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
