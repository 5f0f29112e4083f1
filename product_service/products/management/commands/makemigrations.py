"""``makemigrations`` that also runs where no MongoDB is reachable (lint, CI, a fresh clone).

Django reads the applied-migration history only to warn about inconsistencies, and turns an
unreachable database into a warning, but only for ``OperationalError``; pymongo raises its own
``ConnectionFailure``. This translates it, so ``makemigrations --check`` works offline.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import makemigrations
from django.db import OperationalError
from django.db.migrations.loader import MigrationLoader
from pymongo.errors import ConnectionFailure


class Command(makemigrations.Command):
    def handle(self, *app_labels: str, **options: Any) -> None:
        original = MigrationLoader.check_consistent_history

        def check_consistent_history(loader: MigrationLoader, connection: Any) -> None:
            try:
                original(loader, connection)
            except ConnectionFailure as exc:
                raise OperationalError(str(exc)) from exc

        MigrationLoader.check_consistent_history = check_consistent_history
        try:
            super().handle(*app_labels, **options)
        finally:
            MigrationLoader.check_consistent_history = original
