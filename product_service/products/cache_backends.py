"""A per-process cache bounded by the bytes it holds, for the catalogue's read cache.

Used only without ``REDIS_URL`` (with it, the catalogue cache is the shared Redis, bounded by
the server's ``maxmemory``). Django's ``LocMemCache`` bounds only the number of entries. The
catalogue cache keys answers by their query string, which callers choose freely, and one
answer (an old ``/product/list`` of 1000 products) can weigh hundreds of kilobytes, so an
entry count alone would let callers fill a worker's memory. This backend keeps the pickled
values under ``OPTIONS["MAX_BYTES"]`` and the entries under ``OPTIONS["MAX_ENTRIES"]``,
dropping the least recently used first, and never stores a value bigger than an eighth of
the byte budget.

It is a ``BaseCache`` of its own (Django's public cache API), not a ``LocMemCache`` with its
private methods overridden, so a Django upgrade cannot change it underneath. Like
``LocMemCache``, every thread's instance of one cache (one ``LOCATION``) shares one store.
"""

from __future__ import annotations

import pickle
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

# No single entry may take more than this share of the budget.
LARGEST_ENTRY_SHARE = 8


@dataclass
class _Store:
    """Pickled values and their expiry (None: never), least recently used first."""

    entries: OrderedDict[str, tuple[bytes, float | None]] = field(default_factory=OrderedDict)
    total: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


_stores: dict[str, _Store] = {}
_stores_lock = threading.Lock()


class BoundedLocMemCache(BaseCache):
    def __init__(self, name: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        options = params.get("OPTIONS", {})
        self._max_bytes = int(options.get("MAX_BYTES", 0))
        self._max_count = int(options.get("MAX_ENTRIES", 300))
        with _stores_lock:
            self._store = _stores.setdefault(name, _Store())

    # --- Django's cache API --------------------------------------------------------------

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        with self._store.lock:
            pickled = self._live(key)
            if pickled is None:
                return default
            self._store.entries.move_to_end(key)
        return pickle.loads(pickled)  # noqa: S301 - pickled by this process, in its memory

    def set(
        self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        key = self.make_and_validate_key(key, version=version)
        pickled = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        with self._store.lock:
            self._put(key, pickled, self.get_backend_timeout(timeout))

    def add(
        self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        key = self.make_and_validate_key(key, version=version)
        pickled = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        with self._store.lock:
            if self._live(key) is not None:
                return False
            return self._put(key, pickled, self.get_backend_timeout(timeout))

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        key = self.make_and_validate_key(key, version=version)
        with self._store.lock:
            pickled = self._live(key)
            if pickled is None:
                raise ValueError(f"Key '{key}' not found")
            value = pickle.loads(pickled) + delta  # noqa: S301 - as in get()
            expires = self._store.entries[key][1]
            self._put(key, pickle.dumps(value, pickle.HIGHEST_PROTOCOL), expires)
        return value

    def touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        with self._store.lock:
            pickled = self._live(key)
            if pickled is None:
                return False
            return self._put(key, pickled, self.get_backend_timeout(timeout))

    def has_key(self, key: str, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        with self._store.lock:
            return self._live(key) is not None

    def delete(self, key: str, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        with self._store.lock:
            return self._drop(key)

    def clear(self) -> None:
        with self._store.lock:
            self._store.entries.clear()
            self._store.total = 0

    def bytes_held(self) -> int:
        """The pickled size of everything held (expired entries until they are dropped)."""
        with self._store.lock:
            return self._store.total

    # --- with the lock held ------------------------------------------------------------------

    # get_backend_timeout() gives the expiry as a time.time() (None: never).

    def _live(self, key: str) -> bytes | None:
        entry = self._store.entries.get(key)
        if entry is None:
            return None
        pickled, expires = entry
        if expires is not None and expires <= time.time():
            self._drop(key)
            return None
        return pickled

    def _put(self, key: str, pickled: bytes, expires: float | None) -> bool:
        """Store ``pickled`` until ``expires`` (a ``time.time()``; None: never), most recent."""
        self._drop(key)  # An older value must not outlive a refused new one.
        if self._max_bytes and len(pickled) > self._max_bytes // LARGEST_ENTRY_SHARE:
            return False
        self._store.entries[key] = (pickled, expires)
        self._store.total += len(pickled)
        while len(self._store.entries) > 1 and (
            len(self._store.entries) > self._max_count
            or (self._max_bytes and self._store.total > self._max_bytes)
        ):
            _, (old, _) = self._store.entries.popitem(last=False)
            self._store.total -= len(old)
        return True

    def _drop(self, key: str) -> bool:
        entry = self._store.entries.pop(key, None)
        if entry is None:
            return False
        self._store.total -= len(entry[0])
        return True
