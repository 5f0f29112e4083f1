"""The internal API integration_service calls: status transitions, the relay and expiry."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import Order, OutboxEvent, StatusHistory
from orders.status import OrderStatus
from orders.tests.factories import OrderFactory
from orders.views import render_order_stored
from payments.models import Payment
from payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db


def put_status(client, order_id, status, event_id=None, reason="stock committed"):
    return client.put(
        f"/internal/orders/{order_id}/status",
        {"status": status, "reason": reason, "eventId": event_id or str(uuid.uuid4())},
        format="json",
    )


def test_internal_status_confirms_a_paid_order(internal_client):
    order = OrderFactory(status=OrderStatus.PAID)
    event_id = str(uuid.uuid4())

    response = put_status(internal_client, order.id, "confirmed", event_id)

    assert response.status_code == 200
    assert response.json()["status"] == "confirmed"
    assert response.json()["statusLabel"] == "order confirmed"
    last = StatusHistory.objects.filter(order=order).last()
    assert (last.from_status, last.to_status, last.event_id, last.reason) == (
        "paid",
        "confirmed",
        event_id,
        "stock committed",
    )
    assert OutboxEvent.objects.get(order=order).event_type == "order.confirmed"


@pytest.mark.django_db(transaction=True)
def test_internal_status_confirmed_is_one_transaction_and_publishes_nothing(
    internal_client, integration_queue, django_assert_num_queries
):
    order = OrderFactory(status=OrderStatus.PAID)

    # BEGIN, lock order (its items read with it, for the event), is the event applied already,
    # UPDATE order, INSERT outbox event and history (one statement), COMMIT; order.confirmed is
    # not routed, so there is no "sent" mark after the commit.
    with django_assert_num_queries(6):
        response = put_status(internal_client, order.id, "confirmed")

    assert response.status_code == 200
    # Rendered from the order in hand, it is the order as read back.
    assert response.json() == render_order_stored(Order.objects.get(pk=order.pk))


def test_internal_status_repeat_of_the_same_event_changes_nothing(internal_client):
    order = OrderFactory(status=OrderStatus.PAID)
    event_id = str(uuid.uuid4())
    put_status(internal_client, order.id, "confirmed", event_id)

    response = put_status(internal_client, order.id, "confirmed", event_id)

    assert response.status_code == 200
    assert response.json()["status"] == "confirmed"
    assert StatusHistory.objects.filter(order=order, to_status="confirmed").count() == 1
    assert OutboxEvent.objects.filter(order=order).count() == 1


def test_internal_status_illegal_transition_is_409_and_changes_nothing(internal_client):
    order = OrderFactory(status=OrderStatus.PAYMENT_PENDING)

    response = put_status(internal_client, order.id, "confirmed")

    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"
    assert response.json()["errors"] == {"status": "payment_pending", "requested": "confirmed"}
    order.refresh_from_db()
    assert order.status == "payment_pending"
    assert OutboxEvent.objects.count() == 0


def test_internal_status_a_new_event_after_confirmation_is_409(internal_client):
    order = OrderFactory(status=OrderStatus.CONFIRMED)

    assert put_status(internal_client, order.id, "out_of_stock").status_code == 409


def test_internal_status_out_of_stock_refunds_the_payment(
    internal_client, gateway, django_capture_on_commit_callbacks
):
    order = OrderFactory(status=OrderStatus.PAID)
    PaymentFactory(order=order)

    with django_capture_on_commit_callbacks(execute=True):
        response = put_status(internal_client, order.id, "out_of_stock", reason="reservation lost")

    assert response.status_code == 200
    assert response.json()["status"] == "out_of_stock"
    assert Payment.objects.get(order=order).status == "refunded"
    assert len(gateway.refunded) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"status": "shipped", "eventId": "e1"},
        {"status": "confirmed"},
        {"eventId": "e1"},
        {"status": "confirmed", "eventId": "x" * 101},
    ],
)
def test_internal_status_rejects_a_bad_body_with_400(internal_client, body):
    order = OrderFactory(status=OrderStatus.PAID)

    response = internal_client.put(f"/internal/orders/{order.id}/status", body, format="json")

    assert response.status_code == 400
    order.refresh_from_db()
    assert order.status == "paid"


def test_internal_status_for_an_unknown_order_is_404(internal_client):
    assert put_status(internal_client, uuid.uuid4(), "confirmed").status_code == 404


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_internal_routes_refuse_calls_without_the_internal_token(api_client, token):
    order = OrderFactory(status=OrderStatus.PAID)
    if token:
        api_client.credentials(HTTP_X_INTERNAL_TOKEN=token)

    responses = [
        put_status(api_client, order.id, "confirmed"),
        api_client.post("/internal/outbox/relay"),
        api_client.post("/internal/orders/expire"),
    ]

    assert [r.status_code in (401, 403) for r in responses] == [True, True, True]
    order.refresh_from_db()
    assert order.status == "paid"


def test_internal_routes_accept_the_previous_rotated_token(api_client):
    order = OrderFactory(status=OrderStatus.PAID)
    api_client.credentials(HTTP_X_INTERNAL_TOKEN="test-internal-token-previous")

    assert put_status(api_client, order.id, "confirmed").status_code == 200


def test_a_user_token_does_not_open_internal_routes(customer_client):
    order = OrderFactory(status=OrderStatus.PAID)

    assert put_status(customer_client, order.id, "confirmed").status_code in (401, 403)


def test_internal_expire_expires_unpaid_orders_past_their_window(internal_client):
    overdue = OrderFactory(payment_deadline=timezone.now() - timedelta(minutes=1))
    fresh = OrderFactory()
    paid = OrderFactory(
        status=OrderStatus.PAID, payment_deadline=timezone.now() - timedelta(minutes=1)
    )

    response = internal_client.post("/internal/orders/expire")

    assert response.status_code == 200
    assert response.json() == {"expired": 1, "reconciled": 0}
    for order, status in ((overdue, "expired"), (fresh, "payment_pending"), (paid, "paid")):
        order.refresh_from_db()
        assert order.status == status
    [event] = OutboxEvent.objects.all()
    assert (event.order_id, event.event_type) == (overdue.id, "order.expired")
    assert internal_client.post("/internal/orders/expire").json() == {"expired": 0, "reconciled": 0}


def test_internal_status_cannot_mark_an_order_paid(internal_client):
    order = OrderFactory(status=OrderStatus.PAYMENT_PENDING)

    response = put_status(internal_client, order.id, "paid")

    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"
    order.refresh_from_db()
    assert order.status == "payment_pending"
