"""The payment gateway interface and the built-in simulated provider.

``get_gateway()`` returns the provider named by ``settings.PAYMENT_GATEWAY`` (a dotted path), so a
real provider plugs in by setting. Every call carries an idempotency key: the gateway must
answer a repeated key with the first result and never charge (or refund) twice.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class GatewayError(Exception):
    """The gateway could not be reached or failed; the outcome of the call is unknown."""


class GatewayTimeout(GatewayError):
    pass


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


class SimulatedGateway:
    """An in-process provider with Stripe's test tokens.

    ``tok_visa`` approves, ``tok_chargeDeclined`` declines, any other token is invalid. The
    ``PAYMENT_SIMULATOR_MODE`` setting makes every call fail (``fail``) or time out
    (``timeout``), for tests. Results are remembered per idempotency key, like a real gateway.
    """

    name = "simulated"
    APPROVE = "tok_visa"
    DECLINE = "tok_chargeDeclined"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._charges: dict[str, ChargeResult] = {}
        self._refunds: dict[str, RefundResult] = {}
        # Every charge that actually moved money, for tests: (idempotency key, amount).
        self.charged: list[tuple[str, Decimal]] = []
        self.refunded: list[tuple[str, Decimal]] = []

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
        with self._lock:
            if idempotency_key in self._charges:
                return self._charges[idempotency_key]
            if token == self.APPROVE:
                result = ChargeResult(approved=True, charge_id=f"ch_{uuid.uuid4().hex}")
                self.charged.append((idempotency_key, amount))
            elif token == self.DECLINE:
                result = ChargeResult(
                    approved=False,
                    charge_id=f"ch_{uuid.uuid4().hex}",
                    decline_reason="card_declined",
                )
            else:
                raise InvalidPaymentToken(token)
            self._charges[idempotency_key] = result
            return result

    def refund(
        self, *, charge_id: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> RefundResult:
        self._misbehave()
        with self._lock:
            if idempotency_key not in self._refunds:
                self._refunds[idempotency_key] = RefundResult(refund_id=f"re_{uuid.uuid4().hex}")
                self.refunded.append((idempotency_key, amount))
            return self._refunds[idempotency_key]


@cache
def _gateway(path: str) -> PaymentGateway:
    return import_string(path)()


def get_gateway() -> PaymentGateway:
    return _gateway(settings.PAYMENT_GATEWAY)
