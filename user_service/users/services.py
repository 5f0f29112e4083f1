"""Writes: registration, profile updates, login, token refresh and logout, rate limiting."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from users.errors import (
    EmailTaken,
    InvalidCredentials,
    InvalidRefreshToken,
    LoginThrottled,
    RefreshTokenNotOwned,
)
from users.models import RateLimitEvent, RevokedAccessToken, User
from users.selectors import email_is_taken, rate_limit_wait

logger = logging.getLogger(__name__)

LOGIN_SCOPE_EMAIL = "login_email"
LOGIN_SCOPE_IP = "login_ip"


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def _password_validate(*, password: str, user: User) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc


def user_register(*, first_name: str, last_name: str, email: str, password: str) -> User:
    """Create a user with role ``user``; a taken email (any case) is rejected, even under a race."""
    email = email.strip().lower()
    user = User(email=email, first_name=first_name, last_name=last_name)
    _password_validate(password=password, user=user)
    if email_is_taken(email=email):
        raise EmailTaken()
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        # Another request registered the same email between the check and the insert.
        raise EmailTaken() from exc
    logger.info("user registered", extra={"user_id": user.pk})
    return user


def user_update(
    *,
    user: User,
    first_name: str | None = None,
    last_name: str | None = None,
    email: str | None = None,
) -> User:
    """Change a user's own profile fields; the role is never changed here."""
    changed: list[str] = []
    if first_name is not None and first_name != user.first_name:
        user.first_name = first_name
        changed.append("first_name")
    if last_name is not None and last_name != user.last_name:
        user.last_name = last_name
        changed.append("last_name")
    if email is not None and email.strip().lower() != user.email:
        email = email.strip().lower()
        if email_is_taken(email=email, exclude_user_id=user.pk):
            raise EmailTaken()
        user.email = email
        changed.append("email")
    if not changed:
        return user
    try:
        with transaction.atomic():
            user.save(update_fields=[*changed, "updated_at"])
    except IntegrityError as exc:
        user.refresh_from_db()
        raise EmailTaken() from exc
    return user


def rate_limit_consume(*, scope: str, key: str, limit: int, window_seconds: int) -> int | None:
    """Count one event for ``key`` unless it is over ``limit``; answer the wait when it is."""
    wait = rate_limit_wait(scope=scope, key=key, limit=limit, window_seconds=window_seconds)
    if wait is None:
        now = timezone.now()
        RateLimitEvent.objects.filter(
            scope=scope, key=key, created_at__lte=now - timedelta(seconds=window_seconds)
        ).delete()
        RateLimitEvent.objects.create(scope=scope, key=key, created_at=now)
    return wait


def _email_key(email: str) -> str:
    # Hashed: people type passwords into the email field, and this table is not for secrets.
    return hashlib.sha256(email.encode()).hexdigest()


def _login_throttle_wait(*, email: str, client_ip: str | None) -> int | None:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    waits = [
        rate_limit_wait(
            scope=LOGIN_SCOPE_EMAIL,
            key=_email_key(email),
            limit=settings.LOGIN_FAILURE_LIMIT_PER_EMAIL,
            window_seconds=window,
        )
    ]
    if client_ip:
        waits.append(
            rate_limit_wait(
                scope=LOGIN_SCOPE_IP,
                key=client_ip,
                limit=settings.LOGIN_FAILURE_LIMIT_PER_IP,
                window_seconds=window,
            )
        )
    blocked = [wait for wait in waits if wait is not None]
    return max(blocked) if blocked else None


def _login_failure_record(*, email: str, client_ip: str | None) -> None:
    now = timezone.now()
    events = [RateLimitEvent(scope=LOGIN_SCOPE_EMAIL, key=_email_key(email), created_at=now)]
    if client_ip:
        events.append(RateLimitEvent(scope=LOGIN_SCOPE_IP, key=client_ip, created_at=now))
    RateLimitEvent.objects.bulk_create(events)


def token_pair_issue(*, user: User) -> TokenPair:
    refresh = RefreshToken.for_user(user)
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def user_login(*, email: str, password: str, client_ip: str | None) -> tuple[User, TokenPair]:
    """Check the credentials and issue a token pair; repeated failures answer 429.

    Failures count per email and per client IP. A success clears the email's failures but
    not the IP's, so an attacker cannot reset the IP count by logging into their own account.
    """
    email = email.strip().lower()
    wait = _login_throttle_wait(email=email, client_ip=client_ip)
    if wait is not None:
        logger.warning("login throttled", extra={"client_ip": client_ip})
        raise LoginThrottled(wait=wait)

    user = authenticate(request=None, email=email, password=password)
    if user is None:
        _login_failure_record(email=email, client_ip=client_ip)
        logger.info("login failed", extra={"client_ip": client_ip})
        raise InvalidCredentials()

    with transaction.atomic():
        RateLimitEvent.objects.filter(scope=LOGIN_SCOPE_EMAIL, key=_email_key(email)).delete()
        user.last_login = timezone.now()
        user.save(update_fields=["last_login"])
        tokens = token_pair_issue(user=user)
    logger.info("user logged in", extra={"user_id": user.pk})
    return user, tokens


def token_refresh(*, refresh: str) -> TokenPair:
    """Exchange a refresh token for a new pair; the old one is blacklisted.

    The outstanding-token row is locked, so the same refresh token presented twice at once
    yields one new pair and one rejection.
    """
    try:
        old = RefreshToken(refresh)
        jti = old[jwt_settings.JTI_CLAIM]
        user_id = int(old[jwt_settings.USER_ID_CLAIM])
    except (TokenError, KeyError, TypeError, ValueError) as exc:
        raise InvalidRefreshToken() from exc

    with transaction.atomic():
        outstanding = (
            OutstandingToken.objects.select_for_update().filter(jti=jti).order_by("pk").first()
        )
        if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
            raise InvalidRefreshToken()
        user = User.objects.filter(pk=user_id, is_active=True).first()
        if user is None:
            raise InvalidRefreshToken()
        BlacklistedToken.objects.create(token=outstanding)
        return token_pair_issue(user=user)


def user_logout(*, user: User, access_token: AccessToken | None, refresh: str | None) -> None:
    """Revoke the caller's refresh token (if given) and the access token used for the call.

    A refresh token that belongs to someone else is refused and nothing is revoked; one that
    is already revoked (a repeated logout) is accepted, as the outcome is the same.
    """
    refresh_jti: str | None = None
    if refresh is not None:
        try:
            claims = token_backend.decode(refresh, verify=True)
        except TokenBackendError as exc:
            raise InvalidRefreshToken(status_code=400) from exc
        refresh_jti = claims.get(jwt_settings.JTI_CLAIM)
        if claims.get(jwt_settings.TOKEN_TYPE_CLAIM) != "refresh" or not refresh_jti:
            raise InvalidRefreshToken(status_code=400)
        if str(claims.get(jwt_settings.USER_ID_CLAIM)) != str(user.pk):
            raise RefreshTokenNotOwned()

    with transaction.atomic():
        if refresh_jti is not None:
            outstanding = OutstandingToken.objects.filter(jti=refresh_jti).first()
            if outstanding is None:
                raise InvalidRefreshToken(status_code=400)
            BlacklistedToken.objects.get_or_create(token=outstanding)
        if access_token is not None:
            RevokedAccessToken.objects.get_or_create(
                jti=str(access_token[jwt_settings.JTI_CLAIM]),
                defaults={
                    "user": user,
                    "expires_at": datetime_from_epoch(access_token["exp"]),
                },
            )
    logger.info("user logged out", extra={"user_id": user.pk})


def expired_records_prune() -> dict[str, int]:
    """Delete what can no longer matter: revoked access tokens past expiry, stale rate-limit
    events, and (simplejwt's own) outstanding refresh tokens past expiry."""
    now = timezone.now()
    horizon = now - timedelta(
        seconds=max(settings.LOGIN_FAILURE_WINDOW_SECONDS, 24 * 60 * 60),
    )
    revoked, _ = RevokedAccessToken.objects.filter(expires_at__lt=now).delete()
    events, _ = RateLimitEvent.objects.filter(created_at__lt=horizon).delete()
    refresh, _ = OutstandingToken.objects.filter(expires_at__lt=now).delete()
    return {"revokedAccessTokens": revoked, "rateLimitEvents": events, "refreshTokens": refresh}
