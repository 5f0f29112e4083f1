"""The ``shared`` cache's Redis backend: Django's own, made safe to lose.

``RedisCache`` is Django's ``django.core.cache.backends.redis.RedisCache`` with two
changes, both through its public methods:

- An unreachable or failing Redis is a miss, never an error: reads answer their default,
  writes do nothing, ``add`` answers False and ``incr`` raises ``ValueError`` (as for a
  missing key). The first failure logs one WARNING; for ``RETRY_AFTER_SECONDS`` after it
  the process does not try the server again (so an outage costs one socket timeout per
  process every few seconds, not one per request), then the next call tries again and an
  INFO line says when it is back.
- ``clear()`` deletes only this cache's keys (its ``KEY_PREFIX`` and service), not the whole
  Redis database as Django's ``FLUSHDB`` does, because several services, releases and test
  runs share one server.

Keys are ``<KEY_PREFIX>:<SERVICE_NAME>:<version>:<key>`` (``make_key``, the ``KEY_FUNCTION``),
so one ``CACHES`` setting serves every service.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5.0
T = TypeVar("T")

# Per process and server: until when the server is taken as down (0: up).
_down_until: dict[str, float] = {}


def make_key(key: str, key_prefix: str, version: int | str) -> str:
    """Django's ``prefix:version:key`` with the service's name after the prefix."""
    return f"{key_prefix}:{settings.SERVICE_NAME}:{version}:{key}"


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._location = server

    def _call(self, operation: str, call: Callable[[], T], fallback: T) -> T:
        if _down_until.get(self._location, 0.0) > time.monotonic():
            return fallback
        try:
            result = call()
        except redis.RedisError as exc:
            _down_until[self._location] = time.monotonic() + RETRY_AFTER_SECONDS
            logger.warning(
                "Redis cache unavailable (%s: %s); serving without it for %.0f s",
                operation,
                exc,
                RETRY_AFTER_SECONDS,
            )
            return fallback
        if _down_until.pop(self._location, 0.0):
            logger.info("Redis cache reachable again")
        return result

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        return self._call(
            "get", lambda: super(RedisCache, self).get(key, default, version), default
        )

    def get_many(self, keys: Any, version: int | None = None) -> dict[str, Any]:
        return self._call("get_many", lambda: super(RedisCache, self).get_many(keys, version), {})

    def has_key(self, key: str, version: int | None = None) -> bool:
        return self._call("has_key", lambda: super(RedisCache, self).has_key(key, version), False)

    def add(
        self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        return self._call(
            "add", lambda: super(RedisCache, self).add(key, value, timeout, version), False
        )

    def set(
        self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        self._call("set", lambda: super(RedisCache, self).set(key, value, timeout, version), None)

    def set_many(
        self, data: dict[str, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[str]:
        return self._call(
            "set_many",
            lambda: super(RedisCache, self).set_many(data, timeout, version),
            list(data),
        )

    def touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._call(
            "touch", lambda: super(RedisCache, self).touch(key, timeout, version), False
        )

    def delete(self, key: str, version: int | None = None) -> bool:
        return self._call("delete", lambda: super(RedisCache, self).delete(key, version), False)

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        self._call("delete_many", lambda: super(RedisCache, self).delete_many(keys, version), None)

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        missing = object()
        result = self._call(
            "incr", lambda: super(RedisCache, self).incr(key, delta, version), missing
        )
        if result is missing:
            raise ValueError(f"Key '{key}' not found (Redis unavailable).")
        return result

    def ping(self) -> bool:
        """Whether Redis answers now (False while the process pauses after a failure)."""
        return self._call("ping", lambda: super(RedisCache, self).has_key("ping") or True, False)

    def key_pattern(self) -> str:
        """A Redis glob matching every key of this cache (any version) and no other."""
        own = self.make_key("", version=0)  # "<prefix>:<service>:0:"
        return _glob_escape(own.removesuffix(":0:")) + ":*"

    def clear(self) -> bool:
        """Delete this cache's keys (``key_pattern``) and nothing else."""

        def delete_own_keys() -> bool:
            pattern = self.key_pattern()
            client = redis.Redis.from_url(self._location.split(",")[0])
            try:
                for batch in _batches(client.scan_iter(match=pattern, count=500), size=500):
                    client.unlink(*batch)
            finally:
                client.close()
            return True

        return self._call("clear", delete_own_keys, False)


def _glob_escape(text: str) -> str:
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)


def _batches(items: Any, *, size: int) -> Any:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
