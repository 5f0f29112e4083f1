"""Reads: email availability, the user behind an access token, rate-limit state."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Exists, Min
from django.db.models.functions import Lower
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken

from users.errors import InvalidToken
from users.models import RateLimitEvent, RevokedAccessToken, User


def email_is_taken(*, email: str, exclude_user_id: int | None = None) -> bool:
    """Whether another user has this email in any letter case (the Lower(email) index)."""
    users = User.objects.alias(email_lower=Lower("email")).filter(email_lower=email.strip().lower())
    if exclude_user_id is not None:
        users = users.exclude(pk=exclude_user_id)
    return users.exists()


@dataclass(frozen=True)
class AuthenticatedToken:
    """A verified access token and the active user it belongs to."""

    user: User
    token: AccessToken


def access_token_authenticate(*, raw_token: str) -> AuthenticatedToken:
    """Verify an access token (signature, expiry, type) and load its active, unrevoked user.

    One query: the user and whether the token's id was revoked. Raises ``InvalidToken``.
    """
    try:
        token = AccessToken(raw_token)
        user_id = int(token[jwt_settings.USER_ID_CLAIM])
        jti = str(token[jwt_settings.JTI_CLAIM])
    except (TokenError, KeyError, TypeError, ValueError) as exc:
        raise InvalidToken() from exc

    user = (
        User.objects.filter(pk=user_id, is_active=True)
        .annotate(token_revoked=Exists(RevokedAccessToken.objects.filter(jti=jti)))
        .first()
    )
    if user is None or user.token_revoked:
        raise InvalidToken()
    return AuthenticatedToken(user=user, token=token)


def rate_limit_wait(*, scope: str, key: str, limit: int, window_seconds: int) -> int | None:
    """Seconds until ``key`` may act again in ``scope``, or None when under ``limit``."""
    now = timezone.now()
    window = timedelta(seconds=window_seconds)
    recent = RateLimitEvent.objects.filter(scope=scope, key=key, created_at__gt=now - window)
    state = recent.aggregate(count=Count("id"), oldest=Min("created_at"))
    if state["count"] < limit:
        return None
    return max(1, math.ceil((state["oldest"] + window - now).total_seconds()))
