"""Settle payments whose outcome is unknown, then expire unpaid orders past their payment window
(their stock is released by the worker): what the periodic expiry tick does."""

from django.core.management.base import BaseCommand

from orders.services import orders_expire_overdue
from payments.reconcile import payments_reconcile_due


class Command(BaseCommand):
    help = "Expire payment_pending orders past their payment window."

    def handle(self, *args, **options) -> None:
        reconciled = payments_reconcile_due()
        expired = orders_expire_overdue()
        self.stdout.write(f"reconciled {reconciled} payment(s), expired {expired} order(s)")
