"""The public order API: create, read, status and cancel."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.models import Order, OutboxEvent, StatusHistory
from orders.status import OrderStatus
from orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

PRODUCT = "65a000000000000000000001"
OTHER_PRODUCT = "65a000000000000000000002"


@pytest.fixture
def catalogue(product_server):
    product_server.add_product(PRODUCT, title="Kettle", price="12.50", quantity=5)
    product_server.add_product(OTHER_PRODUCT, title="Mug", price="3.00", quantity=100)
    return product_server


def test_order_create_reserves_stock_and_answers_the_order_in_payment_pending(
    customer_client, catalogue
):
    response = customer_client.post(
        "/orders",
        {
            "items": [
                {"productId": PRODUCT, "quantity": 2},
                {"productId": OTHER_PRODUCT, "quantity": 1},
            ]
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["userId"] == "7"
    assert body["status"] == "payment_pending"
    assert body["statusLabel"] == "payment pending"
    assert body["totalAmount"] == 28.0
    assert body["items"] == [
        {"productId": PRODUCT, "title": "Kettle", "unitPrice": 12.5, "quantity": 2},
        {"productId": OTHER_PRODUCT, "title": "Mug", "unitPrice": 3.0, "quantity": 1},
    ]
    assert catalogue.available(PRODUCT) == 3
    [reserve] = catalogue.reserve_calls()
    assert reserve["orderId"] == body["id"]
    assert reserve["ttlSeconds"] == 15 * 60 + 5 * 60


def test_order_create_writes_history_and_an_order_created_outbox_event(customer_client, catalogue):
    response = customer_client.post(
        "/orders", {"items": [{"productId": PRODUCT, "quantity": 1}]}, format="json"
    )

    order = Order.objects.get(pk=response.json()["id"])
    [history] = StatusHistory.objects.filter(order=order)
    assert (history.from_status, history.to_status) == ("", "payment_pending")
    [event] = OutboxEvent.objects.filter(order=order)
    assert event.event_type == "order.created"
    # Kept for a later subscriber; the worker does nothing with it, so it is never published.
    assert (event.state, event.claimed_at) == ("not_routed", None)
    assert event.envelope["orderId"] == str(order.id)
    assert event.envelope["data"]["items"][0]["productId"] == PRODUCT
    assert history.published_event == event


def test_order_create_accepts_the_old_single_product_body(customer_client, catalogue):
    response = customer_client.post(
        "/orders", {"productId": PRODUCT, "quantity": 2, "totalAmount": 25}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert response.json()["totalAmount"] == 25.0
    assert response.json()["items"][0]["quantity"] == 2


def test_order_create_rejects_a_total_amount_that_disagrees_with_the_catalogue(
    customer_client, catalogue
):
    response = customer_client.post(
        "/orders", {"productId": PRODUCT, "quantity": 2, "totalAmount": 1}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "total_mismatch"
    assert Order.objects.count() == 0
    assert catalogue.available(PRODUCT) == 5  # the reservation was released


def test_order_create_merges_the_same_product_on_several_lines(customer_client, catalogue):
    response = customer_client.post(
        "/orders",
        {"items": [{"productId": PRODUCT, "quantity": 1}, {"productId": PRODUCT, "quantity": 2}]},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["items"] == [
        {"productId": PRODUCT, "title": "Kettle", "unitPrice": 12.5, "quantity": 3}
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"items": []},
        {},
        {"items": "not a list"},
        {"items": [{"productId": PRODUCT, "quantity": 0}]},
        {"items": [{"productId": PRODUCT, "quantity": -1}]},
        {"items": [{"productId": PRODUCT, "quantity": 1.5}]},
        {"items": [{"productId": PRODUCT, "quantity": True}]},
        {"items": [{"productId": PRODUCT, "quantity": 10**30}]},
        {"items": [{"productId": {"$ne": ""}, "quantity": 1}]},
        {"items": [{"productId": "../etc/passwd", "quantity": 1}]},
        {"items": [{"quantity": 1}]},
        {"productId": PRODUCT},
        {"productId": PRODUCT, "quantity": 1, "items": [{"productId": PRODUCT, "quantity": 1}]},
    ],
)
def test_order_create_rejects_invalid_bodies_without_reserving(customer_client, catalogue, body):
    response = customer_client.post("/orders", body, format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid"
    assert catalogue.reserve_calls() == []
    assert Order.objects.count() == 0


def test_order_create_answers_409_not_sufficient_inventory_and_stores_nothing(
    customer_client, catalogue
):
    response = customer_client.post(
        "/orders",
        {
            "items": [
                {"productId": OTHER_PRODUCT, "quantity": 1},
                {"productId": PRODUCT, "quantity": 6},
            ]
        },
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["message"] == "not sufficient inventory"
    assert response.json()["code"] == "insufficient_stock"
    assert PRODUCT in response.json()["errors"]
    assert Order.objects.count() == 0
    assert OutboxEvent.objects.count() == 0
    assert catalogue.available(OTHER_PRODUCT) == 100


def test_order_create_answers_400_for_an_unknown_product(customer_client, catalogue):
    response = customer_client.post(
        "/orders",
        {"items": [{"productId": "65a0000000000000000000ff", "quantity": 1}]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "unknown_product"
    assert Order.objects.count() == 0


def test_order_create_answers_503_when_product_service_is_down(customer_client, settings):
    settings.PRODUCT_SERVICE_URL = "http://127.0.0.1:1"

    response = customer_client.post(
        "/orders", {"items": [{"productId": PRODUCT, "quantity": 1}]}, format="json"
    )

    assert response.status_code == 503
    assert response.json()["code"] == "product_service_unavailable"
    assert Order.objects.count() == 0


def test_order_create_answers_503_when_product_service_fails(customer_client, catalogue):
    catalogue.fail_with = 500

    response = customer_client.post(
        "/orders", {"items": [{"productId": PRODUCT, "quantity": 1}]}, format="json"
    )

    assert response.status_code == 503
    assert Order.objects.count() == 0


def test_order_create_releases_the_reservation_when_the_order_cannot_be_stored(
    customer_client, catalogue, monkeypatch
):
    def broken_store(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("orders.services._order_store", broken_store)
    customer_client.raise_request_exception = False

    response = customer_client.post(
        "/orders", {"items": [{"productId": PRODUCT, "quantity": 2}]}, format="json"
    )

    assert response.status_code == 500
    assert catalogue.available(PRODUCT) == 5
    [reservation] = catalogue.reservations.values()
    assert reservation.status == "released"


def test_anonymous_requests_are_answered_401(api_client, verify_server):
    assert api_client.get("/orders").status_code == 401
    assert api_client.post("/orders", {}, format="json").status_code == 401


def test_order_list_shows_only_the_callers_orders(customer_client):
    mine = OrderFactory(user_id="7")
    OrderFactory(user_id="8")

    response = customer_client.get("/orders")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [order["id"] for order in body["results"]] == [str(mine.id)]
    assert set(body) == {"count", "next", "previous", "results"}


def test_order_list_shows_every_order_to_an_admin(admin_api_client):
    OrderFactory(user_id="7")
    OrderFactory(user_id="8")

    response = admin_api_client.get("/orders")

    assert response.json()["count"] == 2


def test_order_list_filters_by_status(admin_api_client):
    OrderFactory(status=OrderStatus.PAID)
    OrderFactory()

    response = admin_api_client.get("/orders", {"status": "paid"})

    assert [order["status"] for order in response.json()["results"]] == ["paid"]


def test_order_list_query_count_does_not_grow_with_the_number_of_orders(
    customer_client, django_assert_max_num_queries
):
    for _ in range(15):
        OrderFactory(user_id="7")

    # count, the page of orders, their items: the same for 1 order or 15.
    with django_assert_max_num_queries(3):
        response = customer_client.get("/orders")

    assert len(response.json()["results"]) == 15


def test_order_detail_answers_404_for_someone_elses_order(customer_client, other_client):
    order = OrderFactory(user_id="7")

    assert other_client.get(f"/orders/{order.id}").status_code == 404
    assert customer_client.get(f"/orders/{order.id}").status_code == 200


def test_order_detail_is_visible_to_an_admin(admin_api_client):
    order = OrderFactory(user_id="7")

    response = admin_api_client.get(f"/orders/{order.id}")

    assert response.status_code == 200
    assert response.json()["id"] == str(order.id)


def test_order_detail_answers_json_404_for_a_malformed_id(customer_client):
    response = customer_client.get("/orders/not-a-uuid")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_order_status_answers_the_current_status_and_the_history(customer_client):
    order = OrderFactory(user_id="7", status=OrderStatus.PAID)

    response = customer_client.get(f"/orders/{order.id}/status")

    assert response.status_code == 200
    body = response.json()
    assert body["orderStatus"]["status"] == "paid"
    assert body["orderStatus"]["label"] == "payment successful"
    assert [(h["from"], h["to"]) for h in body["history"]] == [
        (None, "payment_pending"),
        ("payment_pending", "paid"),
    ]


def test_order_status_answers_404_for_someone_elses_order(other_client):
    order = OrderFactory(user_id="7")

    assert other_client.get(f"/orders/{order.id}/status").status_code == 404


def test_order_cancel_before_payment_cancels_and_writes_the_event(customer_client):
    order = OrderFactory(user_id="7")

    response = customer_client.post(f"/orders/{order.id}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["statusLabel"] == "order cancelled"
    assert OutboxEvent.objects.get(order=order).event_type == "order.cancelled"
    history = StatusHistory.objects.filter(order=order).last()
    assert (history.from_status, history.to_status) == ("payment_pending", "cancelled")
    assert history.reason == "cancelled by the customer"
    status = customer_client.get(f"/orders/{order.id}/status").json()
    assert status["history"][-1] == {
        "from": "payment_pending",
        "to": "cancelled",
        "reason": "cancelled by the customer",
        "eventId": None,
        "publishedEventId": str(OutboxEvent.objects.get(order=order).id),
        "createdAt": status["orderStatus"]["createdAt"],
    }


def test_order_cancel_after_confirmation_is_409_and_changes_nothing(customer_client):
    order = OrderFactory(user_id="7", status=OrderStatus.CONFIRMED)

    response = customer_client.post(f"/orders/{order.id}/cancel")

    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"
    order.refresh_from_db()
    assert order.status == "confirmed"
    assert OutboxEvent.objects.count() == 0


def test_order_cancel_of_someone_elses_order_is_404(other_client):
    order = OrderFactory(user_id="7")

    assert other_client.post(f"/orders/{order.id}/cancel").status_code == 404
    order.refresh_from_db()
    assert order.status == "payment_pending"


def test_an_admin_may_cancel_any_order(admin_api_client):
    order = OrderFactory(user_id="7")

    response = admin_api_client.post(f"/orders/{order.id}/cancel")

    assert response.status_code == 200
    assert StatusHistory.objects.filter(order=order).last().reason == "cancelled by an admin"


def test_order_total_is_exact_decimal_money(customer_client, product_server):
    product_server.add_product(PRODUCT, price="0.10", quantity=10)

    response = customer_client.post(
        "/orders", {"items": [{"productId": PRODUCT, "quantity": 3}]}, format="json"
    )

    assert Order.objects.get().total_amount == Decimal("0.30")
    assert response.json()["totalAmount"] == 0.3


def test_order_create_answers_503_and_releases_when_the_reservation_does_not_match(
    customer_client, catalogue, monkeypatch
):
    reserve = catalogue.reserve

    def reserve_less(body):
        status, answer = reserve(body)
        answer = {**answer, "items": answer["items"][:1]}
        return status, answer

    monkeypatch.setattr(catalogue, "reserve", reserve_less)

    response = customer_client.post(
        "/orders",
        {
            "items": [
                {"productId": PRODUCT, "quantity": 1},
                {"productId": OTHER_PRODUCT, "quantity": 1},
            ]
        },
        format="json",
    )

    assert response.status_code == 503
    assert Order.objects.count() == 0
    assert catalogue.available(PRODUCT) == 5


def test_order_create_gives_up_on_a_hanging_product_service_and_releases_the_stock(
    customer_client, catalogue, settings
):
    import time

    settings.PRODUCT_SERVICE_TIMEOUT_SECONDS = 0.3
    catalogue.delay = 1.0

    started = time.monotonic()
    response = customer_client.post(
        "/orders", {"items": [{"productId": PRODUCT, "quantity": 2}]}, format="json"
    )

    assert response.status_code == 503
    assert time.monotonic() - started < 5
    assert Order.objects.count() == 0
    catalogue.delay = 0
    deadline = time.monotonic() + 3
    while catalogue.available(PRODUCT) != 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert catalogue.available(PRODUCT) == 5


def test_order_create_treats_an_unexpected_conflict_from_product_service_as_503(
    customer_client, catalogue, monkeypatch
):
    monkeypatch.setattr(
        catalogue,
        "reserve",
        lambda body: (409, {"code": "reservation_not_active", "message": "released"}),
    )

    response = customer_client.post(
        "/orders", {"items": [{"productId": PRODUCT, "quantity": 1}]}, format="json"
    )

    assert response.status_code == 503
    assert Order.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_an_order_answered_by_create_pay_and_cancel_is_the_order_read_back(
    customer_client, catalogue, gateway, integration_queue
):
    items = [{"productId": PRODUCT, "quantity": 2}, {"productId": OTHER_PRODUCT, "quantity": 1}]
    created = customer_client.post("/orders", {"items": items}, format="json")
    order_url = f"/orders/{created.json()['id']}"
    assert created.json() == customer_client.get(order_url).json()

    paid = customer_client.post(f"{order_url}/pay", {"paymentToken": "tok_visa"}, format="json")
    paid_body = paid.json()
    assert set(paid_body.pop("payment")) == {"id", "status", "amount", "currency"}
    assert paid_body == customer_client.get(order_url).json()

    cancelled = customer_client.post(f"{order_url}/cancel")
    assert cancelled.json() == customer_client.get(order_url).json()
    assert cancelled.json()["status"] == "cancelled"


# What each write costs PostgreSQL, pinned (BEGIN and COMMIT count as queries). A request whose
# event goes to the worker ends with the outbox's "sent" mark, one autocommit UPDATE after its
# transaction commits; order.created is not routed, so creating an order has no mark.


@pytest.mark.django_db(transaction=True)
def test_order_create_is_one_transaction_and_publishes_nothing(
    customer_client, catalogue, integration_queue, django_assert_num_queries
):
    # BEGIN, the user's lock, COUNT open orders, INSERT order, items, outbox event and history
    # (one statement), COMMIT.
    with django_assert_num_queries(5):
        response = customer_client.post(
            "/orders", {"items": [{"productId": PRODUCT, "quantity": 1}]}, format="json"
        )

    assert response.status_code == 201
    assert OutboxEvent.objects.get().state == "not_routed"


@pytest.mark.django_db(transaction=True)
def test_order_create_with_an_idempotency_key_adds_the_claim_and_the_stored_answer(
    customer_client, catalogue, integration_queue, django_assert_num_queries
):
    # SELECT key; BEGIN, INSERT key, COMMIT; BEGIN, lock, COUNT, the INSERTs (one statement),
    # UPDATE key, COMMIT.
    with django_assert_num_queries(10):
        response = customer_client.post(
            "/orders",
            {"items": [{"productId": PRODUCT, "quantity": 1}]},
            format="json",
            HTTP_IDEMPOTENCY_KEY="key-1",
        )

    assert response.status_code == 201


@pytest.mark.django_db(transaction=True)
def test_order_pay_is_two_transactions_and_the_outbox_mark(
    customer_client, gateway, integration_queue, django_assert_num_queries
):
    order = OrderFactory(user_id="7")

    # BEGIN, lock the order the caller may see, INSERT payment (one that skips an earlier
    # attempt's), COMMIT; the charge (the simulator's ledger: one INSERT that skips a repeated
    # key); BEGIN, lock order (its items read with it, for the event), UPDATE payment (the
    # outcome, if not settled already), UPDATE order, INSERT outbox event and history (one
    # statement), COMMIT; the mark.
    with django_assert_num_queries(12):
        response = customer_client.post(
            f"/orders/{order.id}/pay", {"paymentToken": "tok_visa"}, format="json"
        )

    assert response.status_code == 200
    assert response.json()["status"] == "paid"


@pytest.mark.django_db(transaction=True)
def test_order_cancel_is_one_transaction_and_the_outbox_mark(
    customer_client, integration_queue, django_assert_num_queries
):
    order = OrderFactory(user_id="7")

    # SELECT order; SELECT payment (an unknown outcome to settle first); BEGIN, lock order (its
    # items read with it), UPDATE order, INSERT outbox event and history (one statement),
    # UPDATE payment (refund if paid), COMMIT; the mark.
    with django_assert_num_queries(9):
        response = customer_client.post(f"/orders/{order.id}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


def test_an_order_is_rendered_without_building_a_serializer_per_response(
    customer_client, monkeypatch
):
    from rest_framework.renderers import JSONRenderer

    from orders.serializers import OrderSerializer

    order = OrderFactory(user_id="7")
    customer_client.get(f"/orders/{order.id}")
    built = []
    get_fields = OrderSerializer.get_fields
    monkeypatch.setattr(
        OrderSerializer, "get_fields", lambda self: built.append(self) or get_fields(self)
    )

    response = customer_client.get(f"/orders/{order.id}")
    listed = customer_client.get("/orders")

    assert built == []
    expected = json.loads(
        JSONRenderer().render(OrderSerializer(Order.objects.get(pk=order.pk)).data)
    )
    assert response.json() == expected
    assert listed.json()["results"] == [expected]


# --- caps and rate limits -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"items": [{"productId": OTHER_PRODUCT, "quantity": 101}]},
        {
            "items": [
                {"productId": OTHER_PRODUCT, "quantity": 60},
                {"productId": OTHER_PRODUCT, "quantity": 60},
            ]
        },
        {"productId": OTHER_PRODUCT, "quantity": 101},
    ],
    ids=["one line", "merged lines", "old body"],
)
def test_order_create_over_the_units_per_line_cap_is_409_without_reserving(
    customer_client, catalogue, body
):
    response = customer_client.post("/orders", body, format="json")

    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "line_quantity_limit"
    assert OTHER_PRODUCT in response.json()["errors"]["items"]
    assert catalogue.reserve_calls() == []
    assert Order.objects.count() == 0


def test_order_create_at_the_units_per_line_cap_is_accepted(customer_client, catalogue):
    body = {"items": [{"productId": OTHER_PRODUCT, "quantity": 100}]}
    assert customer_client.post("/orders", body, format="json").status_code == 201


def test_order_create_past_the_open_orders_cap_is_409_and_holds_no_stock(
    customer_client, other_client, catalogue, settings
):
    settings.ORDER_MAX_OPEN_PER_USER = 2
    body = {"items": [{"productId": OTHER_PRODUCT, "quantity": 1}]}
    placed = [customer_client.post("/orders", body, format="json") for _ in range(2)]
    assert [r.status_code for r in placed] == [201, 201]

    refused = customer_client.post("/orders", body, format="json")

    assert refused.status_code == 409
    assert refused.json()["code"] == "too_many_open_orders"
    assert catalogue.available(OTHER_PRODUCT) == 100 - 2  # its reservation was given back
    assert Order.objects.filter(user_id="7").count() == 2
    # Another user is not affected, and a cancelled order frees a place.
    assert other_client.post("/orders", body, format="json").status_code == 201
    customer_client.post(f"/orders/{placed[0].json()['id']}/cancel")
    assert customer_client.post("/orders", body, format="json").status_code == 201


def test_orders_past_their_payment_window_do_not_count_as_open(
    customer_client, catalogue, settings
):
    settings.ORDER_MAX_OPEN_PER_USER = 1
    OrderFactory(user_id="7", payment_deadline=timezone.now() - timedelta(seconds=1))
    body = {"items": [{"productId": OTHER_PRODUCT, "quantity": 1}]}
    assert customer_client.post("/orders", body, format="json").status_code == 201


@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_never_pass_the_open_orders_cap(verify_server, catalogue, settings):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections
    from rest_framework.test import APIClient

    settings.ORDER_MAX_OPEN_PER_USER = 3
    token = verify_server.issue(user_id="77")
    body = {"items": [{"productId": OTHER_PRODUCT, "quantity": 1}]}

    def place(_: int) -> int:
        try:
            client = APIClient(headers={"Authorization": f"Bearer {token}"})
            return client.post("/orders", body, format="json").status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(place, range(10)))

    assert statuses.count(201) == 3, statuses
    assert statuses.count(409) == 7
    assert Order.objects.filter(user_id="77").count() == 3
    # Every refused order gave its reservation back.
    assert catalogue.available(OTHER_PRODUCT) == 100 - 3


def test_order_create_over_the_users_rate_is_429_with_retry_after(
    customer_client, catalogue, settings
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"order_create_user": "2/minute"},
    }
    body = {"items": [{"productId": OTHER_PRODUCT, "quantity": 1}]}

    statuses = [customer_client.post("/orders", body, format="json").status_code for _ in range(3)]

    assert statuses == [201, 201, 429]
    refused = customer_client.post("/orders", body, format="json")
    assert refused.json()["code"] == "throttled"
    assert int(refused["Retry-After"]) >= 1
    assert Order.objects.count() == 2
    assert customer_client.get("/orders").status_code == 200
