"""The environment a newcomer's shell gives `./manage_all.sh`, for tests that run the launcher."""

from __future__ import annotations

import os

# What the test command sets for the suites but a newcomer's shell does not have.
TEST_COMMAND_SETTINGS = frozenset(
    {"DATABASE_URL", "MONGODB_URI", "CELERY_BROKER_URL", "DJANGO_SECRET_KEY", "INTERNAL_API_TOKENS"}
)


def newcomer_environment(*also_unset: str) -> dict[str, str]:
    """This process's environment without the test command's store and secret settings."""
    unset = TEST_COMMAND_SETTINGS | set(also_unset)
    return {key: value for key, value in os.environ.items() if key not in unset}
