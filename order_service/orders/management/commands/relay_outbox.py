"""Publish every pending outbox event (the sweep), once or in a loop."""

import logging
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from orders.outbox import outbox_publish_pending
from payments.refunds import payments_refund_pending

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Publish pending outbox events to RabbitMQ and retry due refunds."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--loop", action="store_true", help="keep sweeping")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between sweeps")

    def handle(self, *args, loop: bool, interval: float, **options) -> None:
        while True:
            try:
                self.sweep()
            except Exception:
                if not loop:
                    raise
                # A database outage must not end the loop; the next sweep tries again.
                logger.exception("outbox sweep failed")
                close_old_connections()
            if not loop:
                return
            time.sleep(interval)

    def sweep(self) -> None:
        published = 0
        while batch := outbox_publish_pending():
            published += batch
        refunded = payments_refund_pending()
        self.stdout.write(f"published {published} event(s), refunded {refunded} payment(s)")
