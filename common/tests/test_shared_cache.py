"""The ``shared`` cache: its configuration, Redis as one store for every process, losing Redis,
and the verify cache on it (against the machine's real Redis)."""

import hashlib
import logging

import pytest
from django.core.cache import caches

from ecommerce_common import cache as redis_cache
from ecommerce_common import settings as common
from ecommerce_common.cache import RedisCache
from ecommerce_common.user_auth import MAX_CACHE_SECONDS, verify_token


@pytest.fixture
def redis_down(unreachable_redis_caches):
    return unreachable_redis_caches


def _own_keys(client, cache) -> list[bytes]:
    return list(client.scan_iter(match=cache.key_pattern()))


# --- configuration ----------------------------------------------------------------------------


def test_caches_without_redis_url_keep_every_cache_per_process(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)

    config = common.caches()

    assert set(config) == {"default", "shared"}
    for alias in config.values():
        assert alias["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_caches_with_redis_url_put_shared_on_redis_under_the_release_and_service_prefix(
    monkeypatch, settings
):
    monkeypatch.setenv("REDIS_URL", "redis://cache.example:6379/2")
    monkeypatch.setenv("CACHE_KEY_PREFIX", "shop-eu")
    settings.SERVICE_NAME = "order_service"

    config = common.caches()
    settings.CACHES = config

    shared = config["shared"]
    assert shared["BACKEND"] == "ecommerce_common.cache.RedisCache"
    assert shared["LOCATION"] == "redis://cache.example:6379/2"
    assert caches["shared"].make_key("verify:abc") == "shop-eu:order_service:1:verify:abc"
    assert caches["shared"].key_pattern() == "shop-eu:order_service:*"
    assert shared["VERSION"] == common.CACHE_VERSION
    assert shared["OPTIONS"]["socket_timeout"] == shared["OPTIONS"]["socket_connect_timeout"] == 0.5
    assert config["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


# --- Redis as one store -----------------------------------------------------------------------


def test_shared_cache_on_redis_is_one_store_for_every_process(redis_caches, settings):
    cache = caches["shared"]
    other_process = RedisCache(
        settings.CACHES["shared"]["LOCATION"],
        {k: v for k, v in settings.CACHES["shared"].items() if k not in {"BACKEND", "LOCATION"}},
    )

    cache.set("answer", {"body": b"..."}, timeout=30)
    cache.add("counter", 0, timeout=30)
    other_process.incr("counter")
    cache.incr("counter")

    assert other_process.get("answer") == {"body": b"..."}
    assert cache.get("counter") == other_process.get("counter") == 2
    assert 0 < redis_caches.ttl(cache.make_key("answer")) <= 30
    assert sorted(_own_keys(redis_caches, cache)) == sorted(
        [cache.make_key("answer").encode(), cache.make_key("counter").encode()]
    )


def test_shared_cache_clear_deletes_its_own_keys_and_no_other_services(redis_caches):
    cache = caches["shared"]
    neighbour = f"{cache.key_prefix}:other_service:1:kept"
    redis_caches.set(neighbour, b"1", ex=60)
    cache.set("mine", 1)

    try:
        assert cache.clear() is True

        assert cache.get("mine") is None
        assert redis_caches.get(neighbour) == b"1"
    finally:
        redis_caches.delete(neighbour)


# --- losing Redis -----------------------------------------------------------------------------


def test_unreachable_redis_is_a_miss_with_one_warning_and_no_error(redis_down, caplog):
    caplog.set_level(logging.INFO, logger="ecommerce_common.cache")

    assert redis_down.get("k", "fallback") == "fallback"
    redis_down.set("k", 1)
    assert redis_down.add("k", 1) is False
    assert redis_down.get_many(["k", "j"]) == {}
    assert redis_down.delete("k") is False
    with pytest.raises(ValueError, match="Redis unavailable"):
        redis_down.incr("k")

    records = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert len(records) == 1, records
    assert records[0][0] == "WARNING"
    assert "Redis cache unavailable" in records[0][1]


def test_unreachable_redis_is_tried_again_once_its_pause_is_over(redis_down, caplog):
    redis_down.get("k")
    redis_down.get("k")
    assert len(caplog.records) == 1

    redis_cache._down_until[redis_down._location] = 0.0  # The pause is over.
    redis_down.get("k")

    assert [r.levelname for r in caplog.records] == ["WARNING", "WARNING"]


def test_verify_token_works_while_redis_is_down_asking_user_service_each_time(
    redis_down, verify_server, caplog
):
    token = verify_server.issue(user_id="7", ttl=300)

    first = verify_token(token)
    second = verify_token(token)

    assert first == second
    assert first.id == "7"
    assert len(verify_server.calls) == 2
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# --- the verify cache on Redis ----------------------------------------------------------------


def test_verify_cache_on_redis_is_shared_and_holds_the_tokens_hash_not_the_token(
    redis_caches, verify_server
):
    token = verify_server.issue(user_id="7", ttl=300)

    verify_token(token)
    verify_token(token)

    cache = caches["shared"]
    keys = _own_keys(redis_caches, cache)
    assert keys == [cache.make_key("verify:" + hashlib.sha256(token.encode()).hexdigest()).encode()]
    assert token.encode() not in keys[0]
    assert token.encode() not in redis_caches.get(keys[0])
    assert len(verify_server.calls) == 1
    # The answer lives in Redis, not in this process: once Redis loses it, user_service is asked.
    redis_caches.delete(keys[0])
    verify_token(token)
    assert len(verify_server.calls) == 2


@pytest.mark.parametrize(("token_ttl", "bound"), [(300, MAX_CACHE_SECONDS), (5, 5)])
def test_verify_cache_on_redis_keeps_an_answer_at_most_30_s_and_never_past_the_token(
    redis_caches, verify_server, token_ttl, bound
):
    token = verify_server.issue(ttl=token_ttl)

    verify_token(token)

    (key,) = _own_keys(redis_caches, caches["shared"])
    assert 0 < redis_caches.ttl(key) <= bound


# --- /ready -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_ready_reports_redis_when_it_answers(redis_caches, client):
    response = client.get("/ready")

    assert (response.status_code, response.json()) == (200, {"status": "ready", "redis": "ok"})


@pytest.mark.django_db
def test_ready_reports_redis_down_but_stays_ready(redis_down, client, caplog):
    response = client.get("/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "redis": "unreachable"}
    assert [r.levelname for r in caplog.records] == ["WARNING"]
