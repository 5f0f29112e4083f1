"""pytest plugin loaded by every service's tests (registered as an entry point).

ini options (in a service's ``pytest.ini``):

- ``ecommerce_require = postgres rabbitmq redis``: start those servers if installed
  but stopped, and fail the run loudly if absent.
- ``ecommerce_mongodb = true``: start a throwaway SecantusDB for the run and
  point ``MONGODB_URI`` at it (unless ``MONGODB_URI`` is already set).
- ``ecommerce_env = NAME=value ...``: environment defaults for the run (an
  already-set variable wins), e.g. the URL of a service the tests replace
  with a stand-in but that the settings require.

Both happen before Django's settings are read.
"""

from __future__ import annotations

import atexit
import os
import shutil

import pytest

from ecommerce_common import infra


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "ecommerce_require",
        "servers the tests need (postgres, rabbitmq, redis)",
        type="args",
        default=[],
    )
    parser.addini("ecommerce_mongodb", "start a SecantusDB for the run", type="bool", default=False)
    parser.addini(
        "ecommerce_env", "environment defaults for the run (NAME=value)", type="args", default=[]
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    try:
        required = early_config.getini("ecommerce_require")
        want_mongodb = early_config.getini("ecommerce_mongodb")
        env_defaults = early_config.getini("ecommerce_env")
    except ValueError:
        return
    for item in env_defaults:
        name, separator, value = item.partition("=")
        if not separator or not name:
            raise pytest.UsageError(f"ecommerce_env: expected NAME=value, got {item!r}")
        os.environ.setdefault(name, value)
    try:
        if "postgres" in required:
            infra.ensure_postgres()
        if "rabbitmq" in required:
            infra.ensure_rabbitmq()
        if "redis" in required:
            infra.ensure_redis()
    except infra.InfrastructureError as exc:
        raise pytest.UsageError(str(exc)) from exc
    if want_mongodb and not os.environ.get("MONGODB_URI"):
        process, uri = infra.start_secantus()
        os.environ["MONGODB_URI"] = uri
        storage = process.command[-1]

        def stop() -> None:
            process.stop()
            shutil.rmtree(storage, ignore_errors=True)

        atexit.register(stop)


@pytest.fixture
def internal_token(settings) -> str:
    return settings.INTERNAL_API_TOKENS[0]


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def internal_client(internal_token: str):
    """An API client that presents a valid ``X-Internal-Token``."""
    from rest_framework.test import APIClient

    return APIClient(headers={"X-Internal-Token": internal_token})


@pytest.fixture
def verify_server(settings):
    """A stand-in user_service for ``/internal/verify``; ``verify_server.issue(...)`` makes tokens."""
    from django.core.cache import caches

    from ecommerce_common import user_auth
    from ecommerce_common.testing.verify_server import VerifyServer

    server = VerifyServer()
    settings.USER_SERVICE_URL = server.url
    user_auth._user_service.cache_clear()
    caches[user_auth.VERIFY_CACHE_ALIAS].clear()
    yield server
    server.shutdown()
    user_auth._user_service.cache_clear()


@pytest.fixture
def redis_caches(settings, monkeypatch):
    """The service's ``CACHES`` as with ``REDIS_URL`` set: ``shared`` is the machine's Redis
    (``TEST_REDIS_URL``), under a key prefix of this test's own, emptied afterwards.

    Yields the raw ``redis.Redis`` client, to look at what the cache stored. Needs
    ``ecommerce_require = redis``.
    """
    import uuid

    import redis
    from django.core.cache import caches

    from ecommerce_common import cache as redis_cache
    from ecommerce_common import settings as common

    url = infra.redis_url_for_tests()
    prefix = f"{os.environ.get('TEST_DATABASE_PREFIX', 'ecommerce_')}test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("REDIS_URL", url)
    monkeypatch.setenv("CACHE_KEY_PREFIX", prefix)
    redis_cache._down_until.clear()
    settings.CACHES = {**settings.CACHES, **common.caches()}
    client = redis.Redis.from_url(url)
    yield client
    caches[common.SHARED_CACHE_ALIAS].clear()
    leftover = list(client.scan_iter(match=f"{prefix}:*"))
    client.close()
    redis_cache._down_until.clear()
    assert not leftover, f"clear() left {len(leftover)} keys under {prefix}"


@pytest.fixture
def unreachable_redis_caches(settings, monkeypatch):
    """The service's ``CACHES`` with ``REDIS_URL`` pointing where nothing listens (Redis down).

    Yields the ``shared`` cache."""
    from django.core.cache import caches

    from ecommerce_common import cache as redis_cache
    from ecommerce_common import settings as common

    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{infra.free_port()}/0")
    redis_cache._down_until.clear()
    settings.CACHES = {**settings.CACHES, **common.caches()}
    yield caches[common.SHARED_CACHE_ALIAS]
    redis_cache._down_until.clear()


@pytest.fixture(autouse=True)
def _empty_shared_cache() -> None:
    """Every Django test starts with no rate-limit counts (``caches["shared"]``)."""
    from django.conf import settings

    if settings.configured and "shared" in getattr(settings, "CACHES", {}):
        from django.core.cache import caches

        caches["shared"].clear()
