"""Writes: registration, profile and password changes, login, token refresh, logout, session
revocation, rate limiting.

Every change to a user's tokens (a rotation, a revoked session, a password change) runs in a
transaction that holds the user's row (``_user_lock``), so for one user they happen one after
another and none of them misses a pair another is issuing.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenBackendError
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
    PasswordChangeThrottled,
    RefreshTokenNotOwned,
    WrongPassword,
)
from users.models import RateLimitEvent, RevokedAccessToken, SessionTokenPair, User
from users.selectors import email_is_taken, rate_limit_wait

logger = logging.getLogger(__name__)

LOGIN_SCOPE_EMAIL = "login_email"
LOGIN_SCOPE_IP = "login_ip"
PASSWORD_CHANGE_SCOPE = "password_change"


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def _password_validate(*, password: str, user: User, field: str = "password") -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


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


@dataclass(frozen=True)
class RateLimitAttempt:
    """An attempt counted by ``rate_limit_attempt``: its events (one per limit), or the wait."""

    event_ids: list[int]
    wait: int | None


def rate_limit_attempt(
    *, limits: list[tuple[str, str, int]], window_seconds: int
) -> RateLimitAttempt:
    """Count one attempt under every ``(scope, key, limit)``, then check: atomic under concurrency.

    The events are written (and committed) first and the counts read after, so of any number of
    concurrent attempts at most ``limit`` see themselves within it: each one counts every
    attempt written before its own. An attempt over a limit takes its events back (a refused
    attempt does not prolong the wait) and answers the seconds to wait.
    """
    now = timezone.now()
    events = RateLimitEvent.objects.bulk_create(
        [RateLimitEvent(scope=scope, key=key, created_at=now) for scope, key, _ in limits]
    )
    event_ids = [event.pk for event in events]
    waits = [
        wait
        for scope, key, limit in limits
        if (
            wait := rate_limit_wait(
                scope=scope, key=key, limit=limit + 1, window_seconds=window_seconds
            )
        )
        is not None
    ]
    if waits:
        RateLimitEvent.objects.filter(pk__in=event_ids).delete()
        return RateLimitAttempt(event_ids=[], wait=max(waits))
    return RateLimitAttempt(event_ids=event_ids, wait=None)


def rate_limit_consume(*, scope: str, key: str, limit: int, window_seconds: int) -> int | None:
    """Count one event for ``key`` unless it is over ``limit``; answer the wait when it is."""
    RateLimitEvent.objects.filter(
        scope=scope, key=key, created_at__lte=timezone.now() - timedelta(seconds=window_seconds)
    ).delete()
    return rate_limit_attempt(limits=[(scope, key, limit)], window_seconds=window_seconds).wait


def _email_key(email: str) -> str:
    # Hashed: people type passwords into the email field, and this table is not for secrets.
    return hashlib.sha256(email.encode()).hexdigest()


def _login_attempt(*, email: str, client_ip: str | None) -> RateLimitAttempt:
    limits = [(LOGIN_SCOPE_EMAIL, _email_key(email), settings.LOGIN_FAILURE_LIMIT_PER_EMAIL)]
    if client_ip:
        limits.append((LOGIN_SCOPE_IP, client_ip, settings.LOGIN_FAILURE_LIMIT_PER_IP))
    return rate_limit_attempt(limits=limits, window_seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def _user_lock(*, user_id: int) -> User | None:
    """The user's row, locked until the transaction ends (see the module's docstring)."""
    return User.objects.select_for_update().filter(pk=user_id).first()


def token_pair_issue(*, user: User, session_id: uuid.UUID | None = None) -> TokenPair:
    """Issue a refresh token and its access token, recorded as one pair of a session.

    Without ``session_id`` the pair starts a new session (a login); a rotation passes the
    session of the refresh token it replaces. Call it inside the transaction that needs it.
    """
    refresh = RefreshToken.for_user(user)  # simplejwt records its OutstandingToken
    access = refresh.access_token
    SessionTokenPair.objects.create(
        refresh_id=refresh[jwt_settings.JTI_CLAIM],
        session_id=session_id or uuid.uuid4(),
        access_jti=access[jwt_settings.JTI_CLAIM],
        access_expires_at=datetime_from_epoch(access["exp"]),
    )
    return TokenPair(access=str(access), refresh=str(refresh))


def _access_tokens_revoke(*, user: User, pairs: QuerySet[SessionTokenPair]) -> None:
    """Record the pairs' access tokens that have not expired yet as revoked (by their jti)."""
    live = pairs.filter(access_expires_at__gt=timezone.now()).values_list(
        "access_jti", "access_expires_at"
    )
    RevokedAccessToken.objects.bulk_create(
        [RevokedAccessToken(jti=jti, user=user, expires_at=expires_at) for jti, expires_at in live],
        ignore_conflicts=True,
    )


def _refresh_tokens_blacklist(*, tokens: QuerySet[OutstandingToken]) -> None:
    pending = tokens.filter(blacklistedtoken__isnull=True, expires_at__gt=timezone.now())
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token_id=pk) for pk in pending.values_list("pk", flat=True)],
        ignore_conflicts=True,
    )


def _session_revoke(*, user: User, session_id: uuid.UUID) -> None:
    """End one session: every refresh token descended from its login, and their access tokens.

    The caller holds the user's row (``_user_lock``).
    """
    _access_tokens_revoke(
        user=user, pairs=SessionTokenPair.objects.filter(session_id=session_id, refresh__user=user)
    )
    _refresh_tokens_blacklist(
        tokens=OutstandingToken.objects.filter(session_pair__session_id=session_id, user=user)
    )


def user_sessions_revoke(*, user: User) -> None:
    """End every session of ``user``: all refresh tokens blacklisted, all access tokens revoked.

    ``/internal/verify`` refuses the access tokens from the commit on; the other services,
    which may cache a positive answer for up to 30 s, refuse them within 30 s.
    """
    with transaction.atomic():
        _user_lock(user_id=user.pk)
        _access_tokens_revoke(user=user, pairs=SessionTokenPair.objects.filter(refresh__user=user))
        _refresh_tokens_blacklist(tokens=OutstandingToken.objects.filter(user=user))
    logger.info("user sessions revoked", extra={"user_id": user.pk})


def user_login(*, email: str, password: str, client_ip: str | None) -> tuple[User, TokenPair]:
    """Check the credentials and issue a token pair in a new session; repeated failures answer 429.

    Failures count per email and per client IP. Each attempt is counted before its password is
    checked (``rate_limit_attempt``), so concurrent guesses cannot all slip past the limit
    while the hashes are computed; a success takes its own attempt back. A success clears the
    email's failures but not the IP's, so an attacker cannot reset the IP count by logging into
    their own account.
    """
    email = email.strip().lower()
    attempt = _login_attempt(email=email, client_ip=client_ip)
    if attempt.wait is not None:
        logger.warning("login throttled", extra={"client_ip": client_ip})
        raise LoginThrottled(wait=attempt.wait)

    user = authenticate(request=None, email=email, password=password)
    if user is None:
        logger.info("login failed", extra={"client_ip": client_ip})
        raise InvalidCredentials()  # the attempt stays counted: a failure

    with transaction.atomic():
        RateLimitEvent.objects.filter(scope=LOGIN_SCOPE_EMAIL, key=_email_key(email)).delete()
        RateLimitEvent.objects.filter(pk__in=attempt.event_ids).delete()
        now = timezone.now()
        # Only if the password checked above is still the user's: a password change that
        # committed in between would otherwise miss this new session. The update holds the
        # row, so a password change that starts now waits and then revokes this session.
        stamped = User.objects.filter(pk=user.pk, password=user.password, is_active=True).update(
            last_login=now
        )
        if not stamped:
            raise InvalidCredentials()
        user.last_login = now
        tokens = token_pair_issue(user=user)
    logger.info("user logged in", extra={"user_id": user.pk})
    return user, tokens


def _refresh_token_claims(refresh: str, *, status_code: int | None = None) -> dict[str, Any]:
    """The claims of a refresh token this service signed and that has not expired.

    Whether it was blacklisted is not checked here: that is the callers' business.
    """
    try:
        claims = token_backend.decode(refresh, verify=True)
    except TokenBackendError as exc:
        raise InvalidRefreshToken(status_code=status_code) from exc
    if (
        claims.get(jwt_settings.TOKEN_TYPE_CLAIM) != "refresh"
        or not claims.get(jwt_settings.JTI_CLAIM)
        or claims.get(jwt_settings.USER_ID_CLAIM) is None
    ):
        raise InvalidRefreshToken(status_code=status_code)
    return claims


def token_refresh(*, refresh: str) -> TokenPair:
    """Exchange a refresh token for a new pair in the same session; the old one is blacklisted.

    A refresh token presented again after it was exchanged is reuse: two parties hold it (a
    thief and its owner, whichever refreshed first) and the server cannot tell which is which.
    The whole session is revoked, every refresh token descended from its login and the access
    tokens issued with them, so neither keeps a working session; the user's other sessions
    are untouched. Two refreshes of one token at the same moment are the same case: they run
    one after the other (the user's row is locked), the first gets a new pair, the second finds
    the token exchanged and ends the session, that new pair included.
    """
    claims = _refresh_token_claims(refresh)
    jti = claims[jwt_settings.JTI_CLAIM]
    try:
        user_id = int(claims[jwt_settings.USER_ID_CLAIM])
    except (TypeError, ValueError) as exc:
        raise InvalidRefreshToken() from exc

    reused_session: uuid.UUID | None = None
    with transaction.atomic():
        user = _user_lock(user_id=user_id)
        outstanding = (
            OutstandingToken.objects.select_related("session_pair", "blacklistedtoken")
            .filter(jti=jti, user_id=user_id)
            .first()
        )
        if user is None or not user.is_active or outstanding is None:
            raise InvalidRefreshToken()
        pair: SessionTokenPair | None = getattr(outstanding, "session_pair", None)
        if hasattr(outstanding, "blacklistedtoken"):
            if pair is None or pair.rotated_at is None:
                # Revoked by a logout, a password change or a revoked session: nothing to add.
                raise InvalidRefreshToken()
            _session_revoke(user=user, session_id=pair.session_id)
            reused_session = pair.session_id
        else:
            if pair is None:
                # Issued before sessions were recorded: its session starts here.
                pair = SessionTokenPair(refresh=outstanding, session_id=uuid.uuid4())
            pair.rotated_at = timezone.now()
            pair.save()
            BlacklistedToken.objects.create(token=outstanding)
            tokens = token_pair_issue(user=user, session_id=pair.session_id)

    if reused_session is not None:
        logger.warning(
            "refresh token reused; session revoked",
            extra={"user_id": user_id, "session_id": str(reused_session)},
        )
        raise InvalidRefreshToken()
    return tokens


def user_logout(*, user: User, access_token: AccessToken | None, refresh: str | None) -> None:
    """End the session of the caller's refresh token (if given) and revoke the access token used.

    Ending the session revokes every refresh token descended from its login and the access
    tokens issued with them. A refresh token that belongs to someone else is refused and
    nothing is revoked; one that is already revoked (a repeated logout, a session ended by
    reuse or a password change) is accepted, as the outcome is the same.
    """
    refresh_jti: str | None = None
    if refresh is not None:
        claims = _refresh_token_claims(refresh, status_code=400)
        if str(claims[jwt_settings.USER_ID_CLAIM]) != str(user.pk):
            raise RefreshTokenNotOwned()
        refresh_jti = claims[jwt_settings.JTI_CLAIM]

    with transaction.atomic():
        if refresh_jti is not None:
            _user_lock(user_id=user.pk)
            outstanding = (
                OutstandingToken.objects.select_related("session_pair")
                .filter(jti=refresh_jti)
                .first()
            )
            if outstanding is None:
                raise InvalidRefreshToken(status_code=400)
            pair: SessionTokenPair | None = getattr(outstanding, "session_pair", None)
            if pair is None:  # issued before sessions were recorded
                BlacklistedToken.objects.get_or_create(token=outstanding)
            else:
                _session_revoke(user=user, session_id=pair.session_id)
        if access_token is not None:
            RevokedAccessToken.objects.get_or_create(
                jti=str(access_token[jwt_settings.JTI_CLAIM]),
                defaults={
                    "user": user,
                    "expires_at": datetime_from_epoch(access_token["exp"]),
                },
            )
    logger.info("user logged out", extra={"user_id": user.pk})


def user_password_change(*, user: User, current_password: str, new_password: str) -> TokenPair:
    """Change the caller's own password: every session of theirs ends, a new one starts.

    The answer's pair belongs to the new session, so the caller stays logged in while every
    other device (and anyone holding an old token) has to log in with the new password.
    Wrong current passwords are counted per user with the login limits
    (``LOGIN_FAILURE_LIMIT_PER_EMAIL`` per ``LOGIN_FAILURE_WINDOW_SECONDS``), each before its
    check as at login, so a stolen access token is no way to guess the password faster than
    the login allows, not even with concurrent requests.
    """
    key = str(user.pk)
    attempt = rate_limit_attempt(
        limits=[(PASSWORD_CHANGE_SCOPE, key, settings.LOGIN_FAILURE_LIMIT_PER_EMAIL)],
        window_seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS,
    )
    if attempt.wait is not None:
        logger.warning("password change throttled", extra={"user_id": user.pk})
        raise PasswordChangeThrottled(wait=attempt.wait)
    if not user.check_password(current_password):
        raise WrongPassword()  # the attempt stays counted
    RateLimitEvent.objects.filter(pk__in=attempt.event_ids).delete()
    _password_validate(password=new_password, user=user, field="newPassword")

    with transaction.atomic():
        locked = _user_lock(user_id=user.pk)
        if locked is None or not locked.is_active or locked.password != user.password:
            # Changed (or the user deactivated) by another request since the check above.
            raise WrongPassword()
        locked.set_password(new_password)
        locked.save(update_fields=["password", "updated_at"])
        user_sessions_revoke(user=locked)
        RateLimitEvent.objects.filter(scope=PASSWORD_CHANGE_SCOPE, key=key).delete()
        tokens = token_pair_issue(user=locked)
    logger.info("password changed", extra={"user_id": user.pk})
    return tokens


def user_password_set(*, user: User, password: str | None) -> None:
    """Set a user's password as an admin does (None: no usable password) and end every
    session of theirs."""
    with transaction.atomic():
        _user_lock(user_id=user.pk)
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save(update_fields=["password", "updated_at"])
        user_sessions_revoke(user=user)
    logger.info("password set by an admin", extra={"user_id": user.pk})


def expired_records_prune() -> dict[str, int]:
    """Delete what can no longer matter: revoked access tokens past expiry, stale rate-limit
    events, and (simplejwt's own) outstanding refresh tokens past expiry with their session pairs."""
    now = timezone.now()
    horizon = now - timedelta(
        seconds=max(settings.LOGIN_FAILURE_WINDOW_SECONDS, 24 * 60 * 60),
    )
    revoked, _ = RevokedAccessToken.objects.filter(expires_at__lt=now).delete()
    events, _ = RateLimitEvent.objects.filter(created_at__lt=horizon).delete()
    # Their blacklist entries and session pairs go with them (cascade); count only the tokens.
    _, deleted = OutstandingToken.objects.filter(expires_at__lt=now).delete()
    refresh = deleted.get(OutstandingToken._meta.label, 0)
    return {"revokedAccessTokens": revoked, "rateLimitEvents": events, "refreshTokens": refresh}
