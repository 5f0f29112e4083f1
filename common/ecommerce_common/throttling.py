"""Rate limits on writes, per user and per client IP, counted in the ``shared`` cache.

Each limited write (placing an order, paying, listing a product, posting a review) has a
scope; its rates come from the environment (``ecommerce_common.settings.write_throttle_rates``)
with defaults far above what a person shopping by hand ever does. Counts are fixed windows kept with the cache's
atomic ``incr``, in ``caches["shared"]``: with Redis configured every worker process and pod
counts together, else each process counts on its own (the limit is then per process). Over a
limit the answer is 429 ``throttled`` with ``Retry-After`` (the seconds until the window
ends). The client IP is DRF's, which trusts ``X-Forwarded-For`` only from the
``TRUSTED_PROXY_COUNT`` proxies in front of the service (``NUM_PROXIES``), never a client's.
"""

from __future__ import annotations

import math
import time

from django.core.cache import caches
from rest_framework import throttling
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.settings import api_settings

from ecommerce_common.settings import SHARED_CACHE_ALIAS, parse_rate


def window_hit(*, key: str, limit: int, window_seconds: int) -> int | None:
    """Count one event for ``key`` in the current window; the seconds to wait when over ``limit``.

    ``add`` then ``incr`` is atomic in every cache backend (Redis: SET NX and INCR), so
    concurrent requests never both take the last place. With Redis unreachable the shared
    cache answers as if empty (``incr`` raises ``ValueError``): the write is let through.
    """
    cache = caches[SHARED_CACHE_ALIAS]
    now = time.time()
    window_start = int(now // window_seconds) * window_seconds
    cache_key = f"rate:{key}:{window_start}"
    cache.add(cache_key, 0, timeout=window_seconds + 1)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # evicted between add and incr
        cache.set(cache_key, 1, timeout=window_seconds + 1)
        count = 1
    if count <= limit:
        return None
    return max(1, math.ceil(window_start + window_seconds - now))


class WriteRateThrottle(throttling.BaseThrottle):
    """Limits the unsafe methods of a view, per user and per client IP, at ``scope``'s rates."""

    scope: str = ""

    def __init__(self) -> None:
        self._wait: int | None = None

    def allow_request(self, request: Request, view: object) -> bool:
        if request.method in SAFE_METHODS:
            return True
        user_id = getattr(request.user, "id", None)
        waits = []
        for kind, ident in (("user", user_id), ("ip", self.get_ident(request))):
            rate = api_settings.DEFAULT_THROTTLE_RATES.get(f"{self.scope}_{kind}")
            if not rate or not ident:
                continue
            limit, window_seconds = parse_rate(rate)
            wait = window_hit(
                key=f"{self.scope}:{kind}:{ident}", limit=limit, window_seconds=window_seconds
            )
            if wait is not None:
                waits.append(wait)
        self._wait = max(waits) if waits else None
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait


class OrderCreateThrottle(WriteRateThrottle):
    scope = "order_create"


class OrderPayThrottle(WriteRateThrottle):
    scope = "order_pay"


class ProductCreateThrottle(WriteRateThrottle):
    scope = "product_create"


class ReviewCreateThrottle(WriteRateThrottle):
    scope = "review_create"
