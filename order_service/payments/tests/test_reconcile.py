"""Reconciliation: a payment whose outcome is unknown ends confirmed-paid or refunded, never both
and never neither."""

from datetime import timedelta

import pytest
from django.utils import timezone

from orders import services as order_services
from orders.models import Order
from orders.status import OrderStatus
from orders.tests.factories import OrderFactory
from payments import services
from payments.models import Payment, PaymentStatus
from payments.reconcile import payment_reconcile, payments_reconcile_due

pytestmark = pytest.mark.django_db


def pay(client, order, token):
    return client.post(f"/orders/{order.id}/pay", {"paymentToken": token}, format="json")


def assert_paid_xor_refunded(gateway, order):
    """The customer's money: charged once, and refunded exactly when the order will not ship."""
    order.refresh_from_db()
    payment = Payment.objects.get(order=order)
    key = str(order.id)
    assert [k for k, _ in gateway.charged] == [key]
    if order.status in (OrderStatus.PAID, OrderStatus.CONFIRMED):
        assert payment.status == PaymentStatus.APPROVED
        assert gateway.refunded == []
    else:
        assert order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED)
        assert payment.status == PaymentStatus.REFUNDED
        assert gateway.refunded == [(f"refund-{key}", order.total_amount)]


def timed_out_after_charging(client, order):
    response = pay(client, order, "tok_chargeThenTimeout")
    assert response.status_code == 503
    assert response.json()["code"] == "payment_gateway_unavailable"
    assert Payment.objects.get(order=order).status == PaymentStatus.UNCERTAIN


def test_the_periodic_job_finds_a_charge_that_timed_out_and_the_order_becomes_paid(
    customer_client, internal_client, gateway
):
    order = OrderFactory(user_id="7")
    timed_out_after_charging(customer_client, order)

    response = internal_client.post("/internal/orders/expire")

    assert response.json() == {"reconciled": 1, "expired": 0}
    assert order.history.order_by("created_at", "id").last().to_status == OrderStatus.PAID
    assert_paid_xor_refunded(gateway, order)
    assert internal_client.post("/internal/orders/expire").json() == {"reconciled": 0, "expired": 0}


def test_an_overdue_order_whose_charge_timed_out_is_paid_instead_of_expired(
    customer_client, gateway
):
    order = OrderFactory(user_id="7")
    timed_out_after_charging(customer_client, order)
    Order.objects.filter(pk=order.pk).update(payment_deadline=timezone.now() - timedelta(1))

    assert order_services.orders_expire_overdue() == 0

    assert_paid_xor_refunded(gateway, order)
    assert order.status == OrderStatus.PAID


def test_cancelling_an_order_whose_charge_timed_out_refunds_the_charge(
    customer_client, gateway, django_capture_on_commit_callbacks
):
    order = OrderFactory(user_id="7")
    timed_out_after_charging(customer_client, order)

    with django_capture_on_commit_callbacks(execute=True):
        response = customer_client.post(f"/orders/{order.id}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert_paid_xor_refunded(gateway, order)
    history = [row.to_status for row in order.history.order_by("created_at", "id")]
    assert history[-2:] == [OrderStatus.PAID, OrderStatus.CANCELLED]


def test_an_attempt_that_died_after_the_charge_is_completed_once_it_goes_stale(gateway, settings):
    order = OrderFactory(user_id="7")
    payment = services._payment_begin(order_id=order.id)
    gateway.charge(
        amount=payment.amount, currency="USD", token="tok_visa", idempotency_key=str(order.id)
    )
    # The process died here: the payment stays "processing".
    assert payments_reconcile_due() == 0  # still in flight as far as anyone can tell

    Payment.objects.filter(pk=payment.pk).update(
        updated_at=timezone.now() - timedelta(seconds=settings.PAYMENT_ATTEMPT_STALE_SECONDS + 1)
    )

    assert payments_reconcile_due() == 1
    assert_paid_xor_refunded(gateway, order)


def test_a_charge_the_gateway_never_made_is_marked_not_charged_and_the_order_expires(
    customer_client, gateway, settings
):
    order = OrderFactory(user_id="7")
    settings.PAYMENT_SIMULATOR_MODE = "fail"
    assert pay(customer_client, order, "tok_visa").status_code == 503
    settings.PAYMENT_SIMULATOR_MODE = "normal"
    Order.objects.filter(pk=order.pk).update(payment_deadline=timezone.now() - timedelta(1))

    assert order_services.orders_expire_overdue() == 1

    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert Payment.objects.get(order=order).status == PaymentStatus.NOT_CHARGED
    assert gateway.charged == []
    assert payments_reconcile_due() == 0


def test_a_not_charged_payment_can_still_be_paid(customer_client, gateway, settings):
    order = OrderFactory(user_id="7")
    settings.PAYMENT_SIMULATOR_MODE = "fail"
    pay(customer_client, order, "tok_visa")
    settings.PAYMENT_SIMULATOR_MODE = "normal"
    assert payments_reconcile_due() == 1

    response = pay(customer_client, order, "tok_visa")

    assert response.status_code == 200
    assert_paid_xor_refunded(gateway, order)


def test_while_the_gateway_cannot_be_asked_an_overdue_order_waits_for_the_next_sweep(
    customer_client, gateway, settings
):
    order = OrderFactory(user_id="7")
    timed_out_after_charging(customer_client, order)
    Order.objects.filter(pk=order.pk).update(payment_deadline=timezone.now() - timedelta(1))
    settings.PAYMENT_SIMULATOR_MODE = "fail"

    assert order_services.orders_expire_overdue() == 0
    assert payment_reconcile(order_id=order.id) is False

    order.refresh_from_db()
    assert order.status == OrderStatus.PAYMENT_PENDING
    assert Payment.objects.get(order=order).status == PaymentStatus.UNCERTAIN
    settings.PAYMENT_SIMULATOR_MODE = "normal"
    assert order_services.orders_expire_overdue() == 0
    assert_paid_xor_refunded(gateway, order)


def test_a_cancellation_while_the_gateway_cannot_be_asked_is_refunded_by_the_periodic_job(
    customer_client, internal_client, gateway, settings, django_capture_on_commit_callbacks
):
    order = OrderFactory(user_id="7")
    timed_out_after_charging(customer_client, order)
    settings.PAYMENT_SIMULATOR_MODE = "fail"
    assert customer_client.post(f"/orders/{order.id}/cancel").status_code == 200
    settings.PAYMENT_SIMULATOR_MODE = "normal"

    with django_capture_on_commit_callbacks(execute=True):
        assert internal_client.post("/internal/orders/expire").json()["reconciled"] == 1

    assert_paid_xor_refunded(gateway, order)
    assert order.status == OrderStatus.CANCELLED


def test_paying_past_the_window_after_a_charge_that_timed_out_answers_already_paid(
    customer_client, gateway
):
    order = OrderFactory(user_id="7")
    timed_out_after_charging(customer_client, order)
    Order.objects.filter(pk=order.pk).update(payment_deadline=timezone.now() - timedelta(1))

    response = pay(customer_client, order, "tok_visa")

    assert response.status_code == 409
    assert response.json()["code"] == "already_paid"
    assert_paid_xor_refunded(gateway, order)
