"""Rate limits whose counts live in the database, shared by every worker process."""

from __future__ import annotations

from rest_framework import throttling
from rest_framework.request import Request
from rest_framework.settings import api_settings

from ecommerce_common.settings import parse_rate
from users.services import rate_limit_consume


class DatabaseRateThrottle(throttling.BaseThrottle):
    """Per-client-IP limit for ``scope``, at the rate in ``DEFAULT_THROTTLE_RATES``."""

    scope: str = ""

    def __init__(self) -> None:
        self._wait: int | None = None

    def allow_request(self, request: Request, view: object) -> bool:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        if not rate:
            return True
        limit, window_seconds = parse_rate(rate)
        self._wait = rate_limit_consume(
            scope=self.scope,
            key=self.get_ident(request),
            limit=limit,
            window_seconds=window_seconds,
        )
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait


class RegisterThrottle(DatabaseRateThrottle):
    scope = "register"


class TokenRefreshThrottle(DatabaseRateThrottle):
    scope = "token_refresh"
