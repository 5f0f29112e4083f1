"""The payment gateway interface and the built-in simulated provider.

``get_gateway()`` returns the provider named by ``settings.PAYMENT_GATEWAY`` (a dotted path), so a
real provider plugs in by setting. Every call carries an idempotency key: the gateway must
answer a repeated key with the first result and never charge (or refund) twice, and
``find_charge`` tells what it did under a key, so a call whose answer was lost (a timeout, a
crash) can be settled afterwards (``payments/reconcile.py``).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from ecommerce_common.db import insert_unless_exists
from payments.models import SimulatedGatewayEntry


class GatewayError(Exception):
    """The gateway could not be reached or failed; the outcome of the call is unknown."""


class GatewayTimeout(GatewayError):
    """The gateway did not answer in time: the charge may or may not have been made."""


class InvalidPaymentToken(Exception):
    """The gateway does not know the payment token (a client error, not a decline)."""


@dataclass(frozen=True)
class ChargeResult:
    approved: bool
    charge_id: str
    decline_reason: str = ""


@dataclass(frozen=True)
class RefundResult:
    refund_id: str


class PaymentGateway(Protocol):
    name: str

    def charge(
        self, *, amount: Decimal, currency: str, token: str, idempotency_key: str
    ) -> ChargeResult: ...

    def refund(
        self, *, charge_id: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> RefundResult: ...

    def find_charge(self, *, idempotency_key: str) -> ChargeResult | None:
        """What a charge under this key did; None when the gateway made none."""
        ...


class SimulatedGateway:
    """A provider inside order_service with Stripe's test tokens; it moves no money.

    ``tok_visa`` approves, ``tok_chargeDeclined`` declines, ``tok_chargeThenTimeout`` approves
    and then times out (the answer is lost; a repeat of the key answers the approval), any other
    token is invalid. The ``PAYMENT_SIMULATOR_MODE`` setting makes every call fail (``fail``) or
    time out (``timeout``) before doing anything, for tests. Its ledger of results per
    idempotency key is a table (``SimulatedGatewayEntry``), so every process and replica shares
    it, as they share a real provider.
    """

    name = "simulated"
    APPROVE = "tok_visa"
    DECLINE = "tok_chargeDeclined"
    APPROVE_THEN_TIME_OUT = "tok_chargeThenTimeout"

    @property
    def charged(self) -> list[tuple[str, Decimal]]:
        """Every charge that moved (simulated) money: (idempotency key, amount), oldest first."""
        return self._ledger(SimulatedGatewayEntry.Kind.CHARGE, approved=True)

    @property
    def refunded(self) -> list[tuple[str, Decimal]]:
        return self._ledger(SimulatedGatewayEntry.Kind.REFUND)

    def _ledger(self, kind: str, **filters: bool) -> list[tuple[str, Decimal]]:
        entries = SimulatedGatewayEntry.objects.filter(kind=kind, **filters).order_by("created_at")
        return [(entry.idempotency_key, entry.amount) for entry in entries]

    def _misbehave(self) -> None:
        mode = getattr(settings, "PAYMENT_SIMULATOR_MODE", "normal")
        if mode == "fail":
            raise GatewayError("simulated gateway failure")
        if mode == "timeout":
            time.sleep(getattr(settings, "PAYMENT_SIMULATOR_DELAY_SECONDS", 0))
            raise GatewayTimeout("simulated gateway timeout")

    def charge(
        self, *, amount: Decimal, currency: str, token: str, idempotency_key: str
    ) -> ChargeResult:
        self._misbehave()
        if token not in (self.APPROVE, self.DECLINE, self.APPROVE_THEN_TIME_OUT):
            raise InvalidPaymentToken(token)
        declined = token == self.DECLINE
        entry, created = _ledger_record(
            SimulatedGatewayEntry(
                idempotency_key=idempotency_key,
                kind=SimulatedGatewayEntry.Kind.CHARGE,
                reference=f"ch_{uuid.uuid4().hex}",
                approved=not declined,
                decline_reason="card_declined" if declined else "",
                amount=amount,
            )
        )
        if created and token == self.APPROVE_THEN_TIME_OUT:
            time.sleep(getattr(settings, "PAYMENT_SIMULATOR_DELAY_SECONDS", 0))
            raise GatewayTimeout("simulated gateway timeout after charging")
        return _charge_result(entry)

    def refund(
        self, *, charge_id: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> RefundResult:
        self._misbehave()
        entry, _ = _ledger_record(
            SimulatedGatewayEntry(
                idempotency_key=idempotency_key,
                kind=SimulatedGatewayEntry.Kind.REFUND,
                reference=f"re_{uuid.uuid4().hex}",
                amount=amount,
            )
        )
        return RefundResult(refund_id=entry.reference)

    def find_charge(self, *, idempotency_key: str) -> ChargeResult | None:
        self._misbehave()
        entry = SimulatedGatewayEntry.objects.filter(
            idempotency_key=idempotency_key, kind=SimulatedGatewayEntry.Kind.CHARGE
        ).first()
        return _charge_result(entry) if entry is not None else None


def _ledger_record(entry: SimulatedGatewayEntry) -> tuple[SimulatedGatewayEntry, bool]:
    """Store ``entry`` unless its idempotency key has one already; return the stored entry and
    whether it is this one (read back only on a repeat)."""
    if insert_unless_exists(entry, conflict="idempotency_key"):
        return entry, True
    return SimulatedGatewayEntry.objects.get(pk=entry.pk), False


def _charge_result(entry: SimulatedGatewayEntry) -> ChargeResult:
    return ChargeResult(
        approved=entry.approved, charge_id=entry.reference, decline_reason=entry.decline_reason
    )


@cache
def _gateway(path: str) -> PaymentGateway:
    return import_string(path)()


def get_gateway() -> PaymentGateway:
    return _gateway(settings.PAYMENT_GATEWAY)
