"""The project's shared routes: readiness (with the broker and the outbox backlog), the OpenAPI
schema and the admin. (``/health`` is common code: common/tests/test_middleware.py.)"""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import OutboxEvent
from orders.status import OrderStatus
from orders.tests.factories import OrderFactory
from payments.tests.factories import PaymentFactory


@pytest.mark.django_db
def test_ready_checks_the_database_and_reports_the_broker_and_an_empty_outbox(client):
    response = client.get("/ready")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "broker": "ok",
        "outbox": {"pending": 0, "oldestPendingAgeSeconds": 0.0},
    }


@pytest.mark.django_db
def test_ready_stays_200_when_the_broker_is_down_and_reports_it(client, broker_down_then_up):
    response = client.get("/ready")

    assert response.status_code == 200
    assert response.json()["status"] == "ready"
    assert response.json()["broker"] == "broker: OperationalError"


@pytest.mark.django_db
def test_ready_reports_the_outbox_backlog_and_its_oldest_age(client):
    order = OrderFactory()
    for state, age in (("pending", 120), ("publishing", 30), ("sent", 600)):
        event = OutboxEvent.objects.create(
            id=uuid.uuid4(), order=order, event_type="order.created", envelope={}, state=state
        )
        OutboxEvent.objects.filter(pk=event.pk).update(
            created_at=timezone.now() - timedelta(seconds=age)
        )

    outbox = client.get("/ready").json()["outbox"]

    assert outbox["pending"] == 2
    assert 120 <= outbox["oldestPendingAgeSeconds"] < 180


@pytest.mark.django_db
def test_the_outbox_backlog_is_read_from_the_unsent_index():
    from django.db import connection

    from orders.health import unsent_events

    with connection.cursor() as cursor:
        # The table is tiny here: forbid the sequential scan a planner would rightly prefer.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = unsent_events().values("created_at").explain()

    assert "outbox_unsent_idx" in plan


@pytest.mark.django_db
def test_the_openapi_schema_lists_the_order_routes(client):
    response = client.get("/api/schema", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/orders", "/orders/{order_id}", "/orders/{order_id}/pay"} <= set(paths)


@pytest.mark.django_db
def test_the_openapi_schema_documents_auth_pages_and_error_answers(client):
    schema = client.get("/api/schema", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]

    assert {"bearerAuth", "cookieAuth", "internalToken"} <= set(
        schema["components"]["securitySchemes"]
    )
    assert paths["/orders"]["get"]["security"] == [{"bearerAuth": []}, {"cookieAuth": []}]
    assert paths["/internal/outbox/relay"]["post"]["security"] == [{"internalToken": []}]
    ok = paths["/orders"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    page = schema["components"]["schemas"][ok["$ref"].rsplit("/", 1)[1]]
    assert {"count", "next", "previous", "results"} <= set(page["properties"])
    assert set(paths["/orders"]["post"]["responses"]) >= {"201", "400", "401", "409", "422"}
    assert set(paths["/orders/{order_id}"]["get"]["responses"]) >= {"200", "401", "404"}
    assert set(paths["/orders/{order_id}/pay"]["post"]["responses"]) >= {"200", "402", "409"}
    internal = paths["/internal/orders/{order_id}/status"]["put"]["responses"]
    assert set(internal) >= {"200", "400", "404", "409"}
    assert internal["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Order")
    status = paths["/orders/{order_id}/status"]["get"]["responses"]["200"]["content"]
    status_ref = status["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][status_ref]["properties"]) == {
        "orderId",
        "orderStatus",
        "history",
    }


@pytest.mark.django_db
def test_unknown_routes_answer_json_404(client):
    response = client.get("/orders/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/admin/orders/order/",
        "/admin/orders/order/?status__exact=paid",
        "/admin/orders/outboxevent/?state__exact=pending",
        "/admin/payments/payment/",
        "/admin/orders/idempotencykey/",
    ],
)
def test_the_admin_lists_render(admin_client, url):
    OrderFactory(status=OrderStatus.PAID)

    assert admin_client.get(url).status_code == 200


@pytest.mark.django_db
def test_the_admin_shows_an_order_with_items_history_and_payment(admin_client):
    order = OrderFactory(status=OrderStatus.PAID)
    PaymentFactory(order=order)

    response = admin_client.get(f"/admin/orders/order/{order.id}/change/")

    assert response.status_code == 200
    content = response.content.decode()
    assert "status history" in content.lower()
    assert "ch_factory_" in content  # the payment's charge id
