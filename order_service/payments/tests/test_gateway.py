"""The gateway interface, the simulated provider and choosing a provider by setting."""

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from orders.tests.factories import OrderFactory
from payments import gateway as gateway_module
from payments.gateway import (
    ChargeResult,
    GatewayError,
    GatewayTimeout,
    InvalidPaymentToken,
    RefundResult,
    SimulatedGateway,
)

pytestmark = pytest.mark.django_db


def charge(gateway, token="tok_visa", key="order-1"):
    return gateway.charge(amount=Decimal("5.00"), currency="USD", token=token, idempotency_key=key)


def test_the_simulator_approves_tok_visa_and_declines_tok_charge_declined(settings):
    gateway = SimulatedGateway()

    approved = charge(gateway, "tok_visa", "a")
    declined = charge(gateway, "tok_chargeDeclined", "b")

    assert approved.approved
    assert approved.charge_id.startswith("ch_")
    assert (declined.approved, declined.decline_reason) == (False, "card_declined")
    assert gateway.charged == [("a", Decimal("5.00"))]


def test_the_simulator_answers_a_repeated_key_with_the_first_result(settings):
    gateway = SimulatedGateway()

    first = charge(gateway)
    again = charge(gateway)

    assert again == first
    assert len(gateway.charged) == 1


def test_the_simulator_refunds_once_per_key(settings):
    gateway = SimulatedGateway()
    result = charge(gateway)

    refunds = [
        gateway.refund(
            charge_id=result.charge_id, amount=Decimal("5.00"), currency="USD", idempotency_key="r"
        )
        for _ in range(2)
    ]

    assert refunds[0] == refunds[1]
    assert len(gateway.refunded) == 1


def test_the_simulator_rejects_an_unknown_token(settings):
    with pytest.raises(InvalidPaymentToken):
        charge(SimulatedGateway(), "tok_unknown")


@pytest.mark.parametrize(("mode", "error"), [("fail", GatewayError), ("timeout", GatewayTimeout)])
def test_the_simulator_can_be_told_to_fail_or_time_out(settings, mode, error):
    settings.PAYMENT_SIMULATOR_MODE = mode
    gateway = SimulatedGateway()

    with pytest.raises(error):
        charge(gateway)
    assert gateway.charged == []


def test_tok_charge_then_timeout_charges_then_times_out_and_a_repeat_answers_the_charge():
    gateway = SimulatedGateway()

    with pytest.raises(GatewayTimeout):
        charge(gateway, "tok_chargeThenTimeout", "k")
    again = charge(gateway, "tok_chargeThenTimeout", "k")

    assert again.approved
    assert gateway.charged == [("k", Decimal("5.00"))]


def test_find_charge_tells_what_the_gateway_did_under_a_key():
    gateway = SimulatedGateway()
    with pytest.raises(GatewayTimeout):
        charge(gateway, "tok_chargeThenTimeout", "charged")
    declined = charge(gateway, "tok_chargeDeclined", "declined")

    found = gateway.find_charge(idempotency_key="charged")

    assert found.approved
    assert found.charge_id.startswith("ch_")
    assert gateway.find_charge(idempotency_key="declined") == declined
    assert gateway.find_charge(idempotency_key="never") is None


def test_the_simulators_ledger_is_shared_by_every_instance_like_a_real_providers():
    charge(SimulatedGateway(), "tok_visa", "shared")

    other_process = SimulatedGateway()

    assert other_process.find_charge(idempotency_key="shared").approved
    assert charge(other_process, "tok_visa", "shared").approved
    assert other_process.charged == [("shared", Decimal("5.00"))]


class RecordingGateway:
    """A stand-in for a real provider plugged in through PAYMENT_GATEWAY."""

    name = "recording"
    calls: list[str] = []

    def charge(self, *, amount, currency, token, idempotency_key):
        self.calls.append(idempotency_key)
        return ChargeResult(approved=True, charge_id="rec_1")

    def refund(self, *, charge_id, amount, currency, idempotency_key):
        return RefundResult(refund_id="rec_r1")

    def find_charge(self, *, idempotency_key):
        return None


def test_the_provider_is_chosen_by_the_payment_gateway_setting(settings, customer_client):
    settings.PAYMENT_GATEWAY = f"{__name__}.RecordingGateway"
    gateway_module._gateway.cache_clear()
    order = OrderFactory(user_id="7")
    try:
        response = customer_client.post(
            f"/orders/{order.id}/pay", {"paymentToken": "anything"}, format="json"
        )
    finally:
        gateway_module._gateway.cache_clear()

    assert response.status_code == 200
    assert RecordingGateway.calls == [str(order.id)]
    assert order.payment.provider == "recording"
    assert order.payment.charge_id == "rec_1"


def _settings_load(**env: str):
    """Load order_service's settings in a fresh interpreter with debug off."""
    service_dir = Path(__file__).resolve().parents[2]
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("PAYMENT_")
    }
    environment.update({"DJANGO_DEBUG": "false", **env})
    return subprocess.run(
        [sys.executable, "-c", "import order_service.settings"],
        cwd=service_dir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_with_debug_off_the_simulator_refuses_to_start_unless_allowed():
    refused = _settings_load()
    allowed = _settings_load(PAYMENT_SIMULATOR_ALLOWED="true")
    real_provider = _settings_load(PAYMENT_GATEWAY="shop_payments.StripeGateway")

    assert refused.returncode != 0
    assert "ImproperlyConfigured" in refused.stderr
    assert "PAYMENT_SIMULATOR_ALLOWED=true" in refused.stderr
    assert allowed.returncode == 0, allowed.stderr
    assert real_provider.returncode == 0, real_provider.stderr
