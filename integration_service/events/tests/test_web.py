"""The web part: readiness (the broker is required), the schema and the event log in the admin.
(``/health`` is common code: common/tests/test_middleware.py.)"""

import pytest

from events.models import Outcome
from events.tests.factories import EnvelopeFactory, ProcessedEventFactory


@pytest.mark.django_db
def test_ready_checks_the_database_and_the_broker(client):
    response = client.get("/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


@pytest.mark.django_db
def test_ready_answers_503_when_the_broker_is_down(client, settings):
    settings.CELERY_BROKER_URL = "amqp://guest:guest@127.0.0.1:1//"

    response = client.get("/ready")

    assert response.status_code == 503
    assert response.json()["code"] == "not_ready"


@pytest.mark.django_db
def test_openapi_schema_is_served(client):
    response = client.get("/api/schema", HTTP_ACCEPT="application/json")

    assert response.status_code == 200


@pytest.mark.django_db
def test_admin_lists_events_filtered_by_outcome(admin_client):
    dead = ProcessedEventFactory(outcome=Outcome.DEAD, result="")
    applied = ProcessedEventFactory()

    response = admin_client.get("/admin/events/processedevent/", {"outcome": "dead"})

    assert response.status_code == 200
    content = response.content.decode()
    assert dead.event_id in content
    assert applied.event_id not in content


@pytest.mark.django_db
def test_admin_finds_events_by_order_id(admin_client):
    wanted = ProcessedEventFactory(envelope=EnvelopeFactory(orderId="order-42"))
    other = ProcessedEventFactory()

    response = admin_client.get("/admin/events/processedevent/", {"q": "order-42"})

    content = response.content.decode()
    assert wanted.event_id in content
    assert other.event_id not in content


@pytest.mark.django_db
def test_admin_shows_an_event_read_only(admin_client):
    record = ProcessedEventFactory()

    response = admin_client.get(f"/admin/events/processedevent/{record.pk}/change/")

    assert response.status_code == 200
    assert admin_client.get("/admin/events/processedevent/add/").status_code == 403
