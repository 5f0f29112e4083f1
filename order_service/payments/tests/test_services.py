"""The payment step: approve, decline, never twice, gateway failures, refunds, expiry."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.models import Order, OutboxEvent, StatusHistory
from orders.status import OrderStatus
from orders.tests.factories import OrderFactory
from payments.models import Payment, PaymentStatus
from payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db


def pay(client, order, token="tok_visa"):
    return client.post(f"/orders/{order.id}/pay", {"paymentToken": token}, format="json")


def test_paying_with_an_approved_card_marks_the_order_paid(customer_client, gateway):
    order = OrderFactory(user_id="7", total_amount=Decimal("42.00"))

    response = pay(customer_client, order)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "paid"
    assert body["statusLabel"] == "payment successful"
    assert body["payment"]["status"] == "approved"
    assert body["payment"]["amount"] == 42.0
    assert gateway.charged == [(str(order.id), Decimal("42.00"))]
    assert OutboxEvent.objects.get(order=order).event_type == "order.paid"
    last = StatusHistory.objects.filter(order=order).last()
    assert (last.from_status, last.to_status, last.reason) == (
        "payment_pending",
        "paid",
        "payment approved",
    )


def test_a_declined_card_answers_402_and_the_order_is_payment_failed(customer_client, gateway):
    order = OrderFactory(user_id="7")

    response = pay(customer_client, order, token="tok_chargeDeclined")

    assert response.status_code == 402
    assert response.json()["code"] == "payment_declined"
    assert response.json()["errors"] == {
        "status": "payment_failed",
        "declineReason": "card_declined",
    }
    order.refresh_from_db()
    assert order.status == "payment_failed"
    assert Payment.objects.get(order=order).status == "declined"
    assert OutboxEvent.objects.get(order=order).event_type == "order.payment_failed"
    assert gateway.charged == []


def test_paying_twice_answers_409_already_paid_and_charges_once(customer_client, gateway):
    order = OrderFactory(user_id="7")
    assert pay(customer_client, order).status_code == 200

    response = pay(customer_client, order)

    assert response.status_code == 409
    assert response.json()["code"] == "already_paid"
    assert len(gateway.charged) == 1
    assert Payment.objects.filter(order=order).count() == 1


def test_paying_a_cancelled_order_is_409_illegal_transition(customer_client, gateway):
    order = OrderFactory(user_id="7", status=OrderStatus.CANCELLED)

    response = pay(customer_client, order)

    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"
    assert gateway.charged == []


def test_paying_an_order_past_its_payment_window_expires_it_and_answers_409(
    customer_client, gateway
):
    order = OrderFactory(user_id="7", payment_deadline=timezone.now() - timedelta(seconds=1))

    response = pay(customer_client, order)

    assert response.status_code == 409
    assert response.json()["code"] == "order_expired"
    order.refresh_from_db()
    assert order.status == "expired"
    assert OutboxEvent.objects.get(order=order).event_type == "order.expired"
    assert gateway.charged == []


def test_paying_someone_elses_order_is_404(other_client, gateway):
    order = OrderFactory(user_id="7")

    assert pay(other_client, order).status_code == 404
    assert gateway.charged == []


def test_an_unknown_payment_token_is_400_and_the_order_can_still_be_paid(customer_client, gateway):
    order = OrderFactory(user_id="7")

    response = pay(customer_client, order, token="tok_nonsense")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_payment_token"
    order.refresh_from_db()
    assert order.status == "payment_pending"
    assert pay(customer_client, order).status_code == 200


def test_a_missing_payment_token_is_400(customer_client, gateway):
    order = OrderFactory(user_id="7")

    response = customer_client.post(f"/orders/{order.id}/pay", {}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"paymentToken": ["This field is required."]}


@pytest.mark.parametrize("mode", ["fail", "timeout"])
def test_a_failing_gateway_answers_503_leaves_the_order_unpaid_and_a_retry_charges_once(
    customer_client, gateway, settings, mode
):
    order = OrderFactory(user_id="7")
    settings.PAYMENT_SIMULATOR_MODE = mode

    response = pay(customer_client, order)

    assert response.status_code == 503
    assert response.json()["code"] == "payment_gateway_unavailable"
    order.refresh_from_db()
    assert order.status == "payment_pending"
    # A timeout leaves the charge's fate unknown; a failure says nothing was done.
    assert (
        Payment.objects.get(order=order).status == {"fail": "error", "timeout": "uncertain"}[mode]
    )

    settings.PAYMENT_SIMULATOR_MODE = "normal"
    assert pay(customer_client, order).status_code == 200
    assert len(gateway.charged) == 1
    assert Payment.objects.get(order=order).attempts == 2


def test_a_payment_attempt_in_flight_makes_a_second_attempt_409(customer_client, gateway):
    order = OrderFactory(user_id="7")
    PaymentFactory(order=order, status=PaymentStatus.PROCESSING)

    response = pay(customer_client, order)

    assert response.status_code == 409
    assert response.json()["code"] == "payment_in_progress"
    assert gateway.charged == []


def test_cancelling_a_paid_order_refunds_the_payment(
    customer_client, gateway, django_capture_on_commit_callbacks
):
    order = OrderFactory(user_id="7")
    pay(customer_client, order)

    with django_capture_on_commit_callbacks(execute=True):
        response = customer_client.post(f"/orders/{order.id}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    payment = Payment.objects.get(order=order)
    assert payment.status == "refunded"
    assert payment.refund_id.startswith("re_")
    assert gateway.refunded == [(f"refund-{order.id}", order.total_amount)]


def test_a_refund_the_gateway_refuses_stays_pending_and_the_sweep_makes_it_once(
    customer_client, internal_client, gateway, settings, django_capture_on_commit_callbacks
):
    order = OrderFactory(user_id="7")
    pay(customer_client, order)
    settings.PAYMENT_SIMULATOR_MODE = "fail"

    with django_capture_on_commit_callbacks(execute=True):
        assert customer_client.post(f"/orders/{order.id}/cancel").status_code == 200
    assert Payment.objects.get(order=order).status == "refund_pending"

    settings.PAYMENT_SIMULATOR_MODE = "normal"
    response = internal_client.post("/internal/outbox/relay")
    internal_client.post("/internal/outbox/relay")

    assert response.json()["refunded"] == 1
    assert Payment.objects.get(order=order).status == "refunded"
    assert len(gateway.refunded) == 1


def test_an_approval_that_arrives_after_the_order_was_cancelled_is_refunded(
    gateway, django_capture_on_commit_callbacks
):
    from payments import services

    order = OrderFactory(user_id="7")
    payment = services._payment_begin(order_id=order.id)
    OrderFactory._meta.model.objects.filter(pk=order.pk).update(status=OrderStatus.CANCELLED)
    result = gateway.charge(
        amount=payment.amount, currency="USD", token="tok_visa", idempotency_key=str(order.id)
    )

    with django_capture_on_commit_callbacks(execute=True):
        closed, _ = services.payment_outcome_apply(
            order_id=order.id, payment=payment, result=result
        )

    assert closed.status == "cancelled"
    assert Payment.objects.get(pk=payment.pk).status == "refunded"
    assert len(gateway.refunded) == 1


def _two_attempts_with_one_approval(gateway, settings, order):
    """Attempt A claims the payment and goes quiet past the claim; B takes it over; both then
    get the same approval from the gateway (same idempotency key)."""
    from payments import services

    first = services._payment_begin(order_id=order.id)
    Payment.objects.filter(pk=first.pk).update(
        updated_at=timezone.now() - timedelta(seconds=settings.PAYMENT_ATTEMPT_STALE_SECONDS + 1)
    )
    second = services._payment_begin(order_id=order.id)
    assert second.pk == first.pk
    results = [
        gateway.charge(
            amount=order.total_amount,
            currency="USD",
            token="tok_visa",
            idempotency_key=str(order.id),
        )
        for _ in range(2)
    ]
    assert results[0] == results[1]
    return {"A": first, "B": second}, results[0]


@pytest.mark.parametrize("first_to_finish", ["A", "B"])
def test_two_attempts_paid_by_the_same_charge_leave_the_order_paid_and_unrefunded(
    gateway, settings, django_capture_on_commit_callbacks, first_to_finish
):
    from payments import services

    order = OrderFactory(user_id="7")
    attempts, approval = _two_attempts_with_one_approval(gateway, settings, order)
    payment_id = attempts["A"].pk

    with django_capture_on_commit_callbacks(execute=True):
        # A and B apply the same outcome; which one lands first makes no difference.
        for attempt in (first_to_finish, "B" if first_to_finish == "A" else "A"):
            finished, payment = services.payment_outcome_apply(
                order_id=order.id, payment=attempts[attempt], result=approval
            )
            assert finished.status == "paid"
            assert payment.status == "approved"

    order.refresh_from_db()
    assert order.status == "paid"
    assert Payment.objects.get(pk=payment_id).status == "approved"
    assert [row.to_status for row in StatusHistory.objects.filter(order=order)].count("paid") == 1
    assert len(gateway.charged) == 1
    assert gateway.refunded == []


def test_attempt_b_answers_paid_when_attempt_a_paid_the_order_while_b_waited_at_the_gateway(
    customer_client, gateway, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from payments import services

    order = OrderFactory(user_id="7")
    attempt_a = services._payment_begin(order_id=order.id)
    Payment.objects.filter(pk=attempt_a.pk).update(
        updated_at=timezone.now() - timedelta(seconds=settings.PAYMENT_ATTEMPT_STALE_SECONDS + 1)
    )
    charge = gateway.charge

    def a_finishes_while_b_waits(**kwargs):
        approval = charge(**kwargs)
        services.payment_outcome_apply(order_id=order.id, payment=attempt_a, result=approval)
        return approval

    monkeypatch.setattr(gateway, "charge", a_finishes_while_b_waits)
    with django_capture_on_commit_callbacks(execute=True):
        response = pay(customer_client, order)

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "paid"
    assert response.json()["payment"]["status"] == "approved"
    assert len(gateway.charged) == 1
    assert gateway.refunded == []


@pytest.mark.parametrize("closed", [OrderStatus.CANCELLED, OrderStatus.EXPIRED])
def test_an_approval_reaching_an_order_that_will_not_ship_is_refunded(
    gateway, settings, django_capture_on_commit_callbacks, closed
):
    from payments import services

    order = OrderFactory(user_id="7")
    attempts, approval = _two_attempts_with_one_approval(gateway, settings, order)
    payment_id = attempts["A"].pk
    Order.objects.filter(pk=order.pk).update(status=closed)

    with django_capture_on_commit_callbacks(execute=True):
        for attempt in ("A", "B"):
            services.payment_outcome_apply(
                order_id=order.id, payment=attempts[attempt], result=approval
            )

    assert Payment.objects.get(pk=payment_id).status == "refunded"
    assert gateway.refunded == [(f"refund-{order.id}", order.total_amount)]
