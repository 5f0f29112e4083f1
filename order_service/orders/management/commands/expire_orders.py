"""Expire unpaid orders past their payment window (their stock is released by the worker)."""

from django.core.management.base import BaseCommand

from orders.services import orders_expire_overdue


class Command(BaseCommand):
    help = "Expire payment_pending orders past their payment window."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"expired {orders_expire_overdue()} order(s)")
