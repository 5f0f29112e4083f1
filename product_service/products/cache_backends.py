"""A per-process cache bounded by the bytes it holds, for the catalogue's read cache.

Django's ``LocMemCache`` bounds only the number of entries. The catalogue cache keys
answers by their query string, which callers choose freely, and one answer (an old
``/product/list`` of 1000 products) can weigh hundreds of kilobytes, so an entry count
alone would let callers fill a worker's memory. This backend also keeps the pickled
values under ``OPTIONS["MAX_BYTES"]``, dropping the least recently used entries first,
and never stores a value bigger than an eighth of that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache

# No single entry may take more than this share of the budget.
LARGEST_ENTRY_SHARE = 8


@dataclass
class _Account:
    """The bytes each key's value takes; shared, like LocMemCache's store, by every thread's
    instance of one cache and changed only under its lock."""

    sizes: dict[str, int] = field(default_factory=dict)
    total: int = 0


_accounts: dict[str, _Account] = {}


class BoundedLocMemCache(LocMemCache):
    def __init__(self, name: str, params: dict[str, Any]) -> None:
        super().__init__(name, params)
        self._max_bytes = int(params.get("OPTIONS", {}).get("MAX_BYTES", 0))
        self._account = _accounts.setdefault(name, _Account())

    # The methods below run with the lock held and the value already pickled.

    def _set(self, key: str, value: bytes, timeout: float | None = DEFAULT_TIMEOUT) -> None:
        if self._max_bytes and len(value) > self._max_bytes // LARGEST_ENTRY_SHARE:
            self._delete(key)  # An older value must not outlive the refused new one.
            return
        self._forget(key)
        super()._set(key, value, timeout)
        self._account.sizes[key] = len(value)
        self._account.total += len(value)
        while self._max_bytes and self._account.total > self._max_bytes and len(self._cache) > 1:
            # Entries move to the front when read or written: the last is the least recent.
            old_key, _ = self._cache.popitem()
            del self._expire_info[old_key]
            self._forget(old_key)

    def _delete(self, key: str) -> bool:
        self._forget(key)
        return super()._delete(key)

    def _cull(self) -> None:
        if self._cull_frequency == 0:
            self._clear_all()
            return
        for _ in range(len(self._cache) // self._cull_frequency):
            key, _ = self._cache.popitem()
            del self._expire_info[key]
            self._forget(key)

    def clear(self) -> None:
        with self._lock:
            self._clear_all()

    def _clear_all(self) -> None:
        self._cache.clear()
        self._expire_info.clear()
        self._account.sizes.clear()
        self._account.total = 0

    def _forget(self, key: str) -> None:
        self._account.total -= self._account.sizes.pop(key, 0)
