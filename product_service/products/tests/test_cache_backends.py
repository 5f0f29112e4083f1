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
    assert cache.bytes_held() <= 10 * PICKLED


def test_bounded_cache_counts_replaced_deleted_and_expired_values_once(cache):
    for _ in range(50):
        cache.set("same", VALUE)
    cache.set("gone", VALUE)
    cache.delete("gone")
    cache.set("brief", VALUE, timeout=-1)
    cache.get("brief")

    assert cache.bytes_held() == PICKLED


def test_bounded_cache_refuses_a_value_over_an_eighth_of_its_budget_and_drops_the_old_one(cache):
    cache.set("page", VALUE)

    cache.set("page", b"x" * (2 * PICKLED))

    assert cache.get("page") is None
    assert cache.bytes_held() == 0


def test_bounded_cache_drops_the_least_recently_used_entry_past_its_entry_count(request):
    cache = BoundedLocMemCache(f"test-{request.node.name}", {"OPTIONS": {"MAX_ENTRIES": 3}})
    for number in range(3):
        cache.set(f"k{number}", number)
    cache.get("k0")

    cache.set("k3", 3)

    assert [cache.get(f"k{number}") for number in range(4)] == [0, None, 2, 3]
    cache.clear()


def test_bounded_cache_keeps_djangos_add_incr_and_timeout_semantics(cache):
    assert cache.add("n", 1) is True
    assert cache.add("n", 5) is False
    assert cache.incr("n", 2) == 3
    with pytest.raises(ValueError, match="not found"):
        cache.incr("missing")
    cache.set("forever", 1, timeout=None)
    cache.set("gone", 1, timeout=0)
    cache.set("past", 1, timeout=-5)
    assert cache.touch("forever", timeout=None) is True

    assert (cache.get("forever"), cache.get("gone"), cache.get("past")) == (1, None, None)
    assert cache.has_key("forever")
    assert not cache.has_key("past")
    assert cache.bytes_held() == len(pickle.dumps(3, pickle.HIGHEST_PROTOCOL)) * 2


def test_bounded_cache_instances_of_one_location_share_their_entries(request):
    params = {"OPTIONS": {"MAX_BYTES": 10 * PICKLED}}
    one = BoundedLocMemCache(f"test-{request.node.name}", params)
    other = BoundedLocMemCache(f"test-{request.node.name}", params)

    one.set("k", VALUE)

    assert other.get("k") == VALUE
    assert other.bytes_held() == PICKLED
    one.clear()
