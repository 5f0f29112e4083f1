"""Fixtures for product_service's tests: API clients acting as sellers, buyers and admins, and
the commands the code under test sends to the store."""

import pytest
from django.core.cache import caches
from django.db import connection
from pymongo import monitoring
from rest_framework.test import APIClient

SELLER_ID = "7"
OTHER_USER_ID = "8"
ADMIN_ID = "1"


def _client_for(token: str) -> APIClient:
    return APIClient(headers={"Authorization": f"Bearer {token}"})


# Collections that migrations fill once and tests never change.
KEPT_COLLECTIONS = frozenset({"django_migrations", "django_content_type", "auth_permission"})


class StoreCommands(monitoring.CommandListener):
    """Records the commands sent to the store while ``recording`` (pymongo command monitoring:
    what really reaches the server, whether the ORM or pymongo built it)."""

    # Handshakes and housekeeping, not queries of the code under test.
    IGNORED = frozenset({"hello", "ismaster", "isMaster", "buildinfo", "buildInfo", "endSessions"})

    def __init__(self) -> None:
        self.recording = False
        self.commands: list[dict] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.recording and event.command_name not in self.IGNORED:
            self.commands.append(dict(event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


# Registered before the first connection opens: pymongo gives listeners to new clients only.
_store_commands = StoreCommands()
monitoring.register(_store_commands)


@pytest.fixture
def store_commands():
    """Record the store commands sent inside ``with store_commands() as commands:``."""

    class _Recording:
        def __enter__(self) -> list[dict]:
            _store_commands.commands = []
            _store_commands.recording = True
            return _store_commands.commands

        def __exit__(self, *exc: object) -> None:
            _store_commands.recording = False

    return _Recording


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker):
    """Create the test database (``test_<name>``) once and migrate it, for every run.

    pytest-django sets up only databases that tests request through its ``db`` fixtures
    or marker; these tests use ``_database`` below instead, so ask for it here.
    """
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        config = setup_databases(
            verbosity=0, interactive=False, aliases={"default"}, serialized_aliases=set()
        )
    yield
    with django_db_blocker.unblock():
        teardown_databases(config, verbosity=0)


@pytest.fixture(autouse=True)
def _database(django_db_setup, django_db_blocker):
    """Every test talks to the throwaway MongoDB database and starts with it empty.

    MongoDB has no test transactions to roll back, and Django's flush (which re-runs
    post_migrate) is slow; emptying the collections the tests write is enough.
    """
    with django_db_blocker.unblock():
        assert connection.settings_dict["NAME"].startswith("test_")
        yield
        database = connection.database
        for name in connection.introspection.table_names():
            if name not in KEPT_COLLECTIONS and not name.startswith("system."):
                database[name].delete_many({})


@pytest.fixture(autouse=True)
def _empty_catalogue_cache(settings):
    """Each test starts with an empty catalogue cache (its database starts empty too)."""
    caches[settings.CATALOGUE_CACHE_ALIAS].clear()


@pytest.fixture
def redis_catalogue(redis_caches, settings):
    """The catalogue cache as with ``REDIS_URL`` set: on the shared Redis cache, empty.

    Yields the raw Redis client."""
    from ecommerce_common import settings as common

    settings.CATALOGUE_CACHE_ALIAS = common.SHARED_CACHE_ALIAS
    return redis_caches


@pytest.fixture(params=["per-process", "redis"])
def catalogue_backend(request) -> str:
    """Run a test on both catalogue cache backends: per process (no ``REDIS_URL``) and Redis."""
    if request.param == "redis":
        request.getfixturevalue("redis_catalogue")
    return request.param


@pytest.fixture
def seller_client(verify_server) -> APIClient:
    return _client_for(verify_server.issue(user_id=SELLER_ID))


@pytest.fixture
def other_client(verify_server) -> APIClient:
    return _client_for(verify_server.issue(user_id=OTHER_USER_ID))


@pytest.fixture
def admin_client(verify_server) -> APIClient:
    return _client_for(verify_server.issue(user_id=ADMIN_ID, role="admin"))
