"""The user account, its login sessions' tokens, revoked access tokens, and the records behind
rate limiting."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken


class LowercaseEmailField(models.EmailField):
    """An email stored and looked up in lower case, whichever path writes or queries it."""

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return value.strip().lower() if isinstance(value, str) else value


class Role(models.TextChoices):
    USER = "user", "user"
    ADMIN = "admin", "admin"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.update(is_staff=True, is_superuser=True, role=Role.ADMIN)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    email = LowercaseEmailField(max_length=254, unique=True)
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.USER)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="Whether the user can log into this admin site."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["first_name", "last_name"]

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Guards case-insensitive uniqueness even for rows written around the field.
            models.UniqueConstraint(Lower("email"), name="users_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class RevokedAccessToken(models.Model):
    """An access token revoked before its expiry (logout, a revoked session); kept until it
    would have expired."""

    jti = models.CharField(max_length=255, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="revoked_access_tokens")
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-revoked_at"]

    def __str__(self) -> str:
        return self.jti


class SessionTokenPair(models.Model):
    """A refresh token and the access token issued with it, within one login session.

    A login starts a session; each rotation adds the new pair to the session of the refresh
    token it replaced, so every token descended from one login shares ``session_id``. That is
    what lets a reused refresh token, a password change or a deactivation revoke whole
    sessions: the refresh tokens through simplejwt's blacklist, the access tokens through
    ``RevokedAccessToken``. Deleted with its refresh token's ``OutstandingToken``.
    """

    refresh = models.OneToOneField(
        OutstandingToken, on_delete=models.CASCADE, to_field="jti", related_name="session_pair"
    )
    session_id = models.UUIDField(db_index=True)
    # Empty only for a refresh token issued before sessions were recorded.
    access_jti = models.CharField(max_length=255, unique=True, null=True, blank=True)
    access_expires_at = models.DateTimeField(null=True, blank=True)
    # When the refresh token was exchanged for the next pair: presenting it again is reuse.
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.session_id}:{self.refresh_id}"


class RateLimitEvent(models.Model):
    """One counted event (a failed login, a registration...) for a scope and a key (IP, email).

    Kept in the database so every worker process of every replica sees the same counts.
    """

    scope = models.CharField(max_length=32)
    key = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["scope", "key", "created_at"])]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"
