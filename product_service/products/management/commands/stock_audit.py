"""Audit stock against the reservations and, with ``--repair``, mend what is found (the same
report and repair as the periodic ``POST /internal/stock/repair``)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from products.stock_audit import stock_audit


class Command(BaseCommand):
    help = (
        "Find stock left out by interrupted releases, expiries and commits, and counters that "
        "disagree with the reservations; --repair mends them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--repair", action="store_true", help="Mend what the audit finds.")

    def handle(self, *args: Any, **options: Any) -> None:
        audit = stock_audit(repair=options["repair"])
        for line in audit.report():
            self.stdout.write(line)
