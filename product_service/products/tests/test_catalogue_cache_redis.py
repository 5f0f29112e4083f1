"""The catalogue cache on the shared Redis (``REDIS_URL``): its generation is one for every
process, its entries expire in Redis, and losing Redis only loses the cache.

The behaviour common to both backends is in ``test_catalogue_cache.py``, run on each.
"""

import logging

import pytest
from django.core.cache import caches

from products import catalogue_cache
from products.models import Product
from products.tests.factories import ProductFactory


def _generation_key() -> str:
    return caches["shared"].make_key(catalogue_cache.GENERATION_KEY)


def test_catalogue_write_through_another_process_invalidates_this_ones_entries_at_once(
    redis_catalogue, api_client
):
    product = ProductFactory(title="Lamp")
    path = f"/product/{product.pk}"
    assert api_client.get(path)["X-Cache"] == "miss"
    assert api_client.get(path)["X-Cache"] == "hit"

    # Another worker or pod answers a seller's edit: the store changes, and it moves the one
    # generation all of them read from Redis.
    Product.objects.filter(pk=product.pk).update(title="Lamp, edited")
    redis_catalogue.incr(_generation_key())

    response = api_client.get(path)
    assert (response["X-Cache"], response.json()["title"]) == ("miss", "Lamp, edited")


def test_catalogue_write_through_this_process_moves_the_generation_in_redis(
    redis_catalogue, api_client, seller_client
):
    product = ProductFactory(seller="7")
    api_client.get(f"/product/{product.pk}")
    before = int(redis_catalogue.get(_generation_key()))

    assert (
        seller_client.patch(f"/product/{product.pk}", {"price": 11}, format="json").status_code
        == 200
    )

    assert int(redis_catalogue.get(_generation_key())) == before + 1


def test_catalogue_entries_expire_in_redis_with_the_ttl_and_the_generation_a_day_later(
    redis_catalogue, api_client, settings
):
    settings.CATALOGUE_CACHE_SECONDS = 20
    ProductFactory.create_batch(3)

    api_client.get("/product/?pageSize=2")  # not the last page: its total is counted

    cache = caches["shared"]
    keys = {key.decode() for key in redis_catalogue.scan_iter(match=cache.key_pattern())}
    entries = keys - {_generation_key()}
    assert _generation_key() in keys
    assert 20 < redis_catalogue.ttl(_generation_key()) <= catalogue_cache.GENERATION_SECONDS
    assert len(entries) == 2  # the answer and the list's total
    assert all(0 < redis_catalogue.ttl(key) <= 20 for key in entries)


def test_catalogue_generation_evicted_from_redis_starts_a_new_one_and_old_entries_are_lost(
    redis_catalogue, api_client
):
    product = ProductFactory(title="Lamp")
    api_client.get(f"/product/{product.pk}")
    Product.objects.filter(pk=product.pk).update(title="Lamp, edited")

    redis_catalogue.delete(_generation_key())  # As maxmemory's LRU may.

    response = api_client.get(f"/product/{product.pk}")
    assert (response["X-Cache"], response.json()["title"]) == ("miss", "Lamp, edited")


def test_catalogue_with_redis_down_answers_from_the_store_and_warns_without_an_error(
    unreachable_redis_caches, settings, api_client, seller_client, caplog
):
    settings.CATALOGUE_CACHE_ALIAS = "shared"
    product = ProductFactory(seller="7", title="Lamp")
    path = f"/product/{product.pk}"

    reads = [api_client.get(path), api_client.get(path)]
    edit = seller_client.patch(path, {"title": "Lamp, edited"}, format="json")
    after = api_client.get(path)

    assert [(r.status_code, r["X-Cache"]) for r in reads] == [(200, "miss")] * 2
    assert edit.status_code == 200
    assert (after.status_code, after.json()["title"]) == (200, "Lamp, edited")
    # One WARNING for the whole test (the verify stand-in's setup already met the outage).
    records = caplog.get_records("setup") + caplog.records
    assert [r.levelname for r in records if r.name == "ecommerce_common.cache"] == ["WARNING"]
    assert not [r for r in records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("path", ["/ready", "/health"])
def test_probes_stay_up_while_redis_is_down(unreachable_redis_caches, api_client, path):
    assert api_client.get(path).status_code == 200
