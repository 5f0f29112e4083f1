"""Publish every pending outbox event (the sweep), once or in a loop."""

import time

from django.core.management.base import BaseCommand
from payments.refunds import payments_refund_pending

from orders.outbox import outbox_publish_pending


class Command(BaseCommand):
    help = "Publish pending outbox events to RabbitMQ and retry due refunds."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--loop", action="store_true", help="keep sweeping")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between sweeps")

    def handle(self, *args, loop: bool, interval: float, **options) -> None:
        while True:
            published = 0
            while batch := outbox_publish_pending():
                published += batch
            refunded = payments_refund_pending()
            self.stdout.write(f"published {published} event(s), refunded {refunded} payment(s)")
            if not loop:
                return
            time.sleep(interval)
