"""Every query of every order_service request is answered from an index, on a large history.

The tables are seeded in bulk (``HISTORY`` orders of many users, each with its item, history,
outbox row and payment, and idempotency keys) and analysed, so the planner scans whatever an
index does not serve. Each hot path runs through its HTTP route (after-commit work included)
under ``CaptureQueriesContext``; every statement it sent is explained and a ``Seq Scan``
fails the test.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ecommerce_common.events import make_envelope
from ecommerce_common.testing.query_plans import sequential_scans
from orders.models import IdempotencyKey, Order, OrderItem, OutboxEvent, StatusHistory
from orders.status import OrderStatus
from orders.tests.factories import OrderFactory
from payments.models import Payment, PaymentStatus
from payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db

HISTORY = 20_000
PRODUCT = "65a000000000000000000001"

SEED = f"""
INSERT INTO {Order._meta.db_table}
    (id, user_id, status, total_amount, currency, payment_deadline, created_at, updated_at)
SELECT gen_random_uuid(), (n % 2000)::text, 'confirmed', 10, 'USD',
       now() - interval '1 day', now() - n * interval '1 second', now()
FROM generate_series(1, {HISTORY}) AS n;
INSERT INTO {OrderItem._meta.db_table} (order_id, product_id, title, unit_price, quantity)
SELECT id, '{PRODUCT}', 'Kettle', 10, 1 FROM {Order._meta.db_table};
INSERT INTO {OutboxEvent._meta.db_table}
    (id, order_id, event_type, envelope, state, claimed_at, attempts, last_error, created_at,
     sent_at)
SELECT gen_random_uuid(), id, 'order.paid', '{{}}', 'sent', created_at, 1, '', created_at,
       created_at
FROM {Order._meta.db_table};
INSERT INTO {StatusHistory._meta.db_table}
    (order_id, from_status, to_status, reason, event_id, created_at)
SELECT id, 'paid', 'confirmed', 'stock committed', gen_random_uuid()::text, created_at
FROM {Order._meta.db_table};
INSERT INTO {Payment._meta.db_table}
    (id, order_id, status, amount, currency, provider, charge_id, refund_id, decline_reason,
     last_error, attempts, created_at, updated_at)
SELECT gen_random_uuid(), id, 'approved', 10, 'USD', 'simulated', 'ch', '', '', '', 1,
       created_at, created_at
FROM {Order._meta.db_table};
INSERT INTO {IdempotencyKey._meta.db_table}
    (user_id, key, request_hash, claim_token, claimed_at, response_status, response_body,
     created_at)
SELECT (n % 2000)::text, 'key-' || n, 'h', gen_random_uuid(), now(), 201, '{{}}', now()
FROM generate_series(1, {HISTORY}) AS n;
ANALYZE;
"""


@pytest.fixture
def history(db):
    with connection.cursor() as cursor:
        cursor.execute(SEED)


def _order(status: str = OrderStatus.PAYMENT_PENDING) -> Order:
    return OrderFactory(user_id="7", status=status)


def _path_create(client, catalogue, capture):
    with capture():
        response = client.post(
            "/orders", {"items": [{"productId": PRODUCT, "quantity": 1}]}, format="json"
        )
    assert response.status_code == 201, response.json()


def _path_create_with_idempotency_key(client, catalogue, capture):
    body = {"items": [{"productId": PRODUCT, "quantity": 1}]}
    with capture():
        first = client.post("/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        replay = client.post("/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.headers["Idempotent-Replayed"] == "true"


def _path_list_own(client, catalogue, capture):
    _order()
    with capture():
        assert client.get("/orders").status_code == 200
        assert client.get("/orders", {"status": "payment_pending"}).json()["count"] == 1


def _path_detail_and_status(client, catalogue, capture):
    order = _order()
    with capture():
        assert client.get(f"/orders/{order.pk}").status_code == 200
        assert client.get(f"/orders/{order.pk}/status").status_code == 200


def _path_pay(client, catalogue, capture):
    order = _order()
    with capture():
        response = client.post(
            f"/orders/{order.pk}/pay", {"paymentToken": "tok_visa"}, format="json"
        )
    assert response.status_code == 200, response.json()


def _path_cancel_paid(client, catalogue, capture):
    order = _order(OrderStatus.PAID)
    PaymentFactory(order=order, status=PaymentStatus.APPROVED)
    with capture():
        assert client.post(f"/orders/{order.pk}/cancel").status_code == 200


HOT_PATHS = {
    "create": _path_create,
    "create with an Idempotency-Key, and its replay": _path_create_with_idempotency_key,
    "list own": _path_list_own,
    "detail and status": _path_detail_and_status,
    "pay": _path_pay,
    "cancel a paid order": _path_cancel_paid,
}


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    """``with capture():`` records every statement, including the after-commit work."""
    captured = CaptureQueriesContext(connection)

    class _Capture:
        def __enter__(self):
            captured.__enter__()
            self.callbacks = django_capture_on_commit_callbacks(execute=True)
            self.callbacks.__enter__()

        def __exit__(self, *exc):
            self.callbacks.__exit__(*exc)
            captured.__exit__(*exc)

    _Capture.captured = captured
    return _Capture


@pytest.mark.parametrize("path", list(HOT_PATHS.values()), ids=list(HOT_PATHS))
def test_each_request_is_answered_from_indexes_on_a_large_history(
    history, customer_client, product_server, gateway, capture, path
):
    product_server.add_product(PRODUCT, title="Kettle", price="10.00", quantity=100)

    path(customer_client, product_server, capture)

    statements = [query["sql"] for query in capture.captured.captured_queries]
    assert statements
    assert sequential_scans(connection, statements) == []


def _put_status(client, order, status):
    event_id = str(uuid.uuid4())
    body = {"status": status, "reason": "stock committed", "eventId": event_id}
    for _ in range(2):  # the event, and its repeat
        response = client.put(f"/internal/orders/{order.pk}/status", body, format="json")
        assert response.status_code == 200, response.json()


@pytest.mark.parametrize(
    "route",
    ["status", "relay", "expire"],
    ids=["internal status PUT", "outbox relay and refund sweep", "expiry of unpaid orders"],
)
def test_each_internal_request_is_answered_from_indexes_on_a_large_history(
    history, internal_client, gateway, capture, route
):
    paid = _order(OrderStatus.PAID)
    envelope = make_envelope(event_type="order.paid", order_id=str(paid.pk), data={})
    OutboxEvent.objects.create(
        id=uuid.UUID(envelope["eventId"]),
        order=paid,
        event_type="order.paid",
        envelope=envelope,
        state=OutboxEvent.State.PENDING,
    )
    refund_due = _order(OrderStatus.CANCELLED)
    PaymentFactory(order=refund_due, status=PaymentStatus.REFUND_PENDING)

    with capture():
        if route == "status":
            _put_status(internal_client, paid, "confirmed")
        elif route == "relay":
            assert internal_client.post("/internal/outbox/relay").json()["published"] == 1
        else:
            assert internal_client.post("/internal/orders/expire").status_code == 200

    statements = [query["sql"] for query in capture.captured.captured_queries]
    assert statements
    assert sequential_scans(connection, statements) == []
