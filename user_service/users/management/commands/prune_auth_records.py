"""Delete expired revoked tokens, outstanding refresh tokens and stale rate-limit events."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from users.services import expired_records_prune


class Command(BaseCommand):
    help = "Delete auth records that can no longer matter (run periodically, e.g. daily)."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = expired_records_prune()
        summary = ", ".join(f"{name}: {count}" for name, count in deleted.items())
        self.stdout.write(self.style.SUCCESS(f"Deleted {summary}."))
