"""order_service's metrics: transitions counted once committed, the outbox read when scraped."""

import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from prometheus_client import REGISTRY

from orders import services
from orders.metrics import OutboxCollector
from orders.models import OutboxEvent
from orders.status import OrderStatus
from orders.tests.factories import OrderFactory


def transitions(source: str, target: str) -> float:
    labels = {"from_status": source, "to_status": target}
    return REGISTRY.get_sample_value("order_transitions_total", labels) or 0.0


@pytest.mark.django_db(transaction=True)
def test_a_transition_is_counted_once_its_transaction_commits(integration_queue):
    order = OrderFactory(status=OrderStatus.PAID)
    before = transitions("paid", "confirmed")

    services.order_transition(order_id=order.id, to_status=OrderStatus.CONFIRMED, event_id="e-1")
    services.order_transition(order_id=order.id, to_status=OrderStatus.CONFIRMED, event_id="e-1")

    assert transitions("paid", "confirmed") == before + 1


@pytest.mark.django_db(transaction=True)
def test_a_transition_rolled_back_is_not_counted():
    order = OrderFactory(status=OrderStatus.PAYMENT_PENDING)
    before = transitions("payment_pending", "cancelled")

    def cancel_then_fail() -> None:
        with transaction.atomic():
            services.order_transition(order_id=order.id, to_status=OrderStatus.CANCELLED)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        cancel_then_fail()

    assert transitions("payment_pending", "cancelled") == before


@pytest.mark.django_db
def test_the_outbox_collector_reports_unsent_rows_by_state_and_the_oldest_age():
    order = OrderFactory()
    for state, minutes in (("pending", 10), ("pending", 1), ("publishing", 3), ("sent", 60)):
        event = OutboxEvent.objects.create(
            id=uuid.uuid4(),
            order=order,
            event_type="order.paid",
            envelope={},
            state=state,
        )
        OutboxEvent.objects.filter(pk=event.pk).update(
            created_at=timezone.now() - timedelta(minutes=minutes)
        )

    rows, age = OutboxCollector().collect()

    assert {s.labels["state"]: s.value for s in rows.samples} == {"pending": 2, "publishing": 1}
    assert 599 < age.samples[0].value < 660


@pytest.mark.django_db
def test_an_empty_outbox_reports_zero_rows_and_zero_age():
    rows, age = OutboxCollector().collect()

    assert [s.value for s in rows.samples] == [0, 0]
    assert age.samples[0].value == 0
