"""The byte-bounded per-process cache behind the catalogue cache."""

import pickle

import pytest

from products.cache_backends import BoundedLocMemCache

VALUE = b"x" * 1000
PICKLED = len(pickle.dumps(VALUE, pickle.HIGHEST_PROTOCOL))


@pytest.fixture
def cache(request):
    cache = BoundedLocMemCache(
        f"test-{request.node.name}", {"OPTIONS": {"MAX_BYTES": 10 * PICKLED, "MAX_ENTRIES": 1000}}
    )
    yield cache
    cache.clear()


def _held(cache: BoundedLocMemCache) -> int:
    return sum(map(len, cache._cache.values()))


def test_bounded_cache_drops_the_least_recently_used_entries_past_its_byte_budget(cache):
    for number in range(10):
        cache.set(f"k{number}", VALUE)
    cache.get("k0")  # Read: now the most recently used.

    cache.set("k10", VALUE)
    cache.set("k11", VALUE)

    assert cache.get("k0") == VALUE
    assert cache.get("k1") is None
    assert cache.get("k2") is None
    assert cache.get("k11") == VALUE
    assert _held(cache) <= 10 * PICKLED


def test_bounded_cache_counts_replaced_deleted_and_expired_values_once(cache):
    for _ in range(50):
        cache.set("same", VALUE)
    cache.set("gone", VALUE)
    cache.delete("gone")
    cache.set("brief", VALUE, timeout=-1)
    cache.get("brief")

    assert cache._account.total == _held(cache) == PICKLED


def test_bounded_cache_refuses_a_value_over_an_eighth_of_its_budget_and_drops_the_old_one(cache):
    cache.set("page", VALUE)

    cache.set("page", b"x" * (2 * PICKLED))

    assert cache.get("page") is None
    assert cache._account.total == 0
