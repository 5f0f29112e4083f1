"""Release stock reservations past their lifetime (the periodic job, runnable by hand)."""

from typing import Any

from django.core.management.base import BaseCommand

from products.stock import reservations_expire


class Command(BaseCommand):
    help = "Release stock held by reservations past their lifetime."

    def handle(self, *args: Any, **options: Any) -> None:
        released = reservations_expire()
        self.stdout.write(f"Released {released} expired reservation(s).")
