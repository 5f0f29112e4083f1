"""Tokens that are wrong in one specific way, for the rejection tests."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

from django.utils import timezone
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.tokens import AccessToken

from users.models import User

OTHER_SIGNING_KEY = "a-signing-key-that-is-not-this-services-key-0123456789"


def expired_access_token(user: User) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(from_time=timezone.now() - timedelta(hours=1), lifetime=timedelta(minutes=15))
    return str(token)


def access_token_signed_with_other_key(user: User) -> str:
    token = AccessToken.for_user(user)
    return TokenBackend("HS256", signing_key=OTHER_SIGNING_KEY).encode(token.payload)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def with_claims_changed(raw_token: str, **claims: object) -> str:
    """The same token with its payload edited and the original signature kept."""
    header, payload, signature = raw_token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    decoded.update(claims)
    return ".".join([header, _b64(json.dumps(decoded).encode()), signature])


def jti_of(raw_token: str) -> str:
    """The ``jti`` claim of a token, read without verifying it."""
    payload = raw_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"]
