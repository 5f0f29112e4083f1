"""Whole lifecycles through order_service's own API (the worker's calls made by hand)."""

import uuid

import pytest

from orders.models import OutboxEvent
from payments.models import Payment

pytestmark = pytest.mark.django_db

PRODUCT = "65a000000000000000000001"


@pytest.fixture
def order_id(customer_client, product_server):
    product_server.add_product(PRODUCT, price="19.99", quantity=4)
    response = customer_client.post(
        "/orders", {"items": [{"productId": PRODUCT, "quantity": 2}]}, format="json"
    )
    assert response.status_code == 201
    return response.json()["id"]


def events_of(order_id):
    return list(
        OutboxEvent.objects.filter(order_id=order_id)
        .order_by("created_at")
        .values_list("event_type", flat=True)
    )


def test_create_pay_confirm(customer_client, internal_client, gateway, order_id):
    paid = customer_client.post(
        f"/orders/{order_id}/pay", {"paymentToken": "tok_visa"}, format="json"
    )
    paid_event = str(OutboxEvent.objects.get(order_id=order_id, event_type="order.paid").id)
    confirmed = internal_client.put(
        f"/internal/orders/{order_id}/status",
        {"status": "confirmed", "reason": "stock committed", "eventId": paid_event},
        format="json",
    )

    assert (paid.status_code, confirmed.status_code) == (200, 200)
    status = customer_client.get(f"/orders/{order_id}/status").json()
    assert status["orderStatus"]["status"] == "confirmed"
    assert [(h["from"], h["to"], h["eventId"]) for h in status["history"]] == [
        (None, "payment_pending", None),
        ("payment_pending", "paid", None),
        ("paid", "confirmed", paid_event),
    ]
    assert events_of(order_id) == ["order.created", "order.paid", "order.confirmed"]
    assert customer_client.post(f"/orders/{order_id}/cancel").status_code == 409


def test_create_pay_out_of_stock_refunds(
    customer_client, internal_client, gateway, order_id, django_capture_on_commit_callbacks
):
    customer_client.post(f"/orders/{order_id}/pay", {"paymentToken": "tok_visa"}, format="json")

    with django_capture_on_commit_callbacks(execute=True):
        response = internal_client.put(
            f"/internal/orders/{order_id}/status",
            {"status": "out_of_stock", "reason": "reservation lost", "eventId": str(uuid.uuid4())},
            format="json",
        )

    assert response.json()["statusLabel"] == "order out of stock"
    assert Payment.objects.get(order_id=order_id).status == "refunded"
    assert events_of(order_id) == ["order.created", "order.paid", "order.out_of_stock"]


def test_create_decline(customer_client, gateway, order_id):
    response = customer_client.post(
        f"/orders/{order_id}/pay", {"paymentToken": "tok_chargeDeclined"}, format="json"
    )

    assert response.status_code == 402
    assert customer_client.get(f"/orders/{order_id}").json()["status"] == "payment_failed"
    assert events_of(order_id) == ["order.created", "order.payment_failed"]
    assert customer_client.post(f"/orders/{order_id}/cancel").status_code == 409
