"""The transactional outbox against a real RabbitMQ (the suite's private vhost)."""

import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from ecommerce_common.events import ORDER_EVENT_TASK, integration_queues
from orders import outbox, services
from orders.models import OutboxEvent
from orders.outbox import outbox_publish_pending
from orders.status import OrderStatus
from orders.tests.factories import OrderFactory

PRODUCT = "65a000000000000000000001"


def consume_all(connection, *, wait: float = 2.0) -> list:
    """Every message now in the integration queue (acknowledged), waiting up to ``wait`` for one."""
    queue = connection.SimpleQueue(integration_queues()[0])
    messages = []
    deadline = time.monotonic() + wait
    try:
        while True:
            timeout = max(deadline - time.monotonic(), 0.2) if not messages else 0.5
            try:
                message = queue.get(timeout=timeout)
            except queue.Empty:
                return messages
            message.ack()
            messages.append(message)
    finally:
        queue.close()


def envelope_of(message) -> dict:
    args, _kwargs, _embed = message.decode()
    return args[0]


@pytest.mark.django_db(transaction=True)
def test_a_status_change_is_published_right_after_commit_and_marked_sent(integration_queue):
    order = OrderFactory(status=OrderStatus.PAID)

    services.order_transition(order_id=order.id, to_status=OrderStatus.CANCELLED, event_id="e-1")

    event = OutboxEvent.objects.get(order=order)
    assert event.state == "sent"
    assert event.sent_at is not None
    assert event.attempts == 1
    [message] = consume_all(integration_queue)
    assert message.headers["task"] == ORDER_EVENT_TASK
    assert message.headers["id"] == str(event.id)
    assert message.content_type == "application/json"
    envelope = envelope_of(message)
    assert envelope == event.envelope
    assert envelope["eventId"] == str(event.id)
    assert envelope["type"] == "order.cancelled"
    assert envelope["orderId"] == str(order.id)
    assert envelope["version"] == 1
    assert envelope["data"]["status"] == "cancelled"
    assert envelope["data"]["previousStatus"] == "paid"


@pytest.mark.django_db(transaction=True)
def test_an_order_created_over_http_keeps_order_created_in_the_outbox_and_publishes_nothing(
    customer_client, product_server, integration_queue
):
    product_server.add_product(PRODUCT, price="5.00", quantity=3)

    response = customer_client.post(
        "/orders", {"items": [{"productId": PRODUCT, "quantity": 1}]}, format="json"
    )

    assert response.status_code == 201
    event = OutboxEvent.objects.get()
    assert (event.event_type, event.state, event.claimed_at) == (
        "order.created",
        "not_routed",
        None,
    )
    assert event.envelope["data"]["items"] == [
        {"productId": PRODUCT, "title": "Widget", "unitPrice": 5.0, "quantity": 1}
    ]
    assert outbox_publish_pending() == 0
    assert consume_all(integration_queue, wait=0.5) == []


@pytest.mark.django_db(transaction=True)
def test_only_the_events_the_worker_acts_on_reach_its_queue(integration_queue):
    confirmed, cancelled = OrderFactory(status=OrderStatus.PAID), OrderFactory()

    services.order_transition(order_id=confirmed.id, to_status=OrderStatus.CONFIRMED)
    services.order_transition(order_id=cancelled.id, to_status=OrderStatus.CANCELLED)

    states = dict(OutboxEvent.objects.values_list("event_type", "state"))
    assert states == {"order.confirmed": "not_routed", "order.cancelled": "sent"}
    assert [envelope_of(m)["type"] for m in consume_all(integration_queue)] == ["order.cancelled"]


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_requests_succeed_and_a_later_sweep_publishes_exactly_once(
    customer_client, integration_queue, internal_client, broker_down_then_up
):
    order = OrderFactory(user_id="7")

    started = time.monotonic()
    response = customer_client.post(f"/orders/{order.id}/cancel")
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert elapsed < 5
    event = OutboxEvent.objects.get(order=order)
    assert event.state == "pending"
    assert event.attempts == 1
    assert event.last_error

    broker_down_then_up()
    first = internal_client.post("/internal/outbox/relay")
    second = internal_client.post("/internal/outbox/relay")

    assert first.json()["published"] == 1
    assert second.json()["published"] == 0
    event.refresh_from_db()
    assert event.state == "sent"
    messages = consume_all(integration_queue)
    assert [envelope_of(m)["eventId"] for m in messages] == [str(event.id)]


@pytest.fixture
def relay_after_commit_lost(monkeypatch):
    """The process dies between commit and publish: rows stay claimed by the dead request."""
    monkeypatch.setattr("orders.outbox.outbox_publish_after_commit", lambda **kwargs: None)


def lease_expired(events) -> None:
    """Age the rows' claims past the lease, as if their relay had died long ago."""
    long_ago = timezone.now() - timedelta(seconds=settings.OUTBOX_CLAIM_LEASE_SECONDS + 1)
    OutboxEvent.objects.filter(id__in=[event.id for event in events]).update(claimed_at=long_ago)


def cancel_orders(count: int) -> list[OutboxEvent]:
    """``count`` paid orders cancelled one after the other; their order.cancelled rows."""
    orders = [OrderFactory(status=OrderStatus.PAID) for _ in range(count)]
    for order in orders:
        services.order_transition(order_id=order.id, to_status=OrderStatus.CANCELLED)
    return [OutboxEvent.objects.get(order=order) for order in orders]


@pytest.fixture
def table_order_reads():
    """PostgreSQL reads tables in their stored order, not through an index (whose order would
    hide a missing ``ORDER BY``): with ``aged_against_insertion``, only a sweep that sorts its
    rows oldest first publishes them oldest first."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET enable_indexscan = off")
        cursor.execute("SET enable_bitmapscan = off")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET enable_indexscan")
        cursor.execute("RESET enable_bitmapscan")


def aged_against_insertion(events: list[OutboxEvent]) -> list[OutboxEvent]:
    """Make the first-written row the newest and the last the oldest, so a sweep that read rows
    in the table's stored order instead of oldest first would publish them in the wrong order
    (the rows are rewritten first to last, which is also their stored order after it).
    Returns them oldest first."""
    now = timezone.now()
    for age, event in enumerate(events, start=1):
        OutboxEvent.objects.filter(pk=event.pk).update(created_at=now - timedelta(seconds=age))
    return events[::-1]


@pytest.mark.django_db(transaction=True)
def test_an_event_is_written_claimed_by_its_request_and_the_sweep_leaves_it_alone(
    integration_queue, relay_after_commit_lost
):
    [event] = cancel_orders(1)

    assert (event.state, event.attempts) == ("publishing", 0)
    assert event.claimed_at is not None
    assert outbox_publish_pending() == 0
    assert consume_all(integration_queue, wait=0.5) == []


@pytest.mark.django_db(transaction=True)
def test_the_sweep_takes_over_claims_past_the_lease_oldest_first_and_only_once(
    integration_queue, relay_after_commit_lost, table_order_reads
):
    events = cancel_orders(3)
    lease_expired(events)
    events = aged_against_insertion(events)

    call_command("relay_outbox")
    call_command("relay_outbox")

    assert OutboxEvent.objects.filter(state="sent").count() == 3
    published = [envelope_of(m)["eventId"] for m in consume_all(integration_queue)]
    assert published == [str(event.id) for event in events]


@pytest.mark.django_db(transaction=True)
def test_the_sweep_publishes_pending_rows_oldest_first_and_only_once(
    integration_queue, broker_down_then_up, table_order_reads
):
    events = aged_against_insertion(cancel_orders(3))
    assert OutboxEvent.objects.filter(state="pending").count() == 3

    broker_down_then_up()
    call_command("relay_outbox")
    call_command("relay_outbox")

    assert OutboxEvent.objects.filter(state="sent").count() == 3
    published = [envelope_of(m)["eventId"] for m in consume_all(integration_queue)]
    assert published == [str(event.id) for event in events]


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_publish_each_event_once(integration_queue, relay_after_commit_lost):
    events = cancel_orders(30)
    lease_expired(events)
    barrier = threading.Barrier(3)
    published: list[int] = []

    def sweep():
        try:
            barrier.wait()
            while batch := outbox_publish_pending(limit=4):
                published.append(batch)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sum(published) == 30
    assert OutboxEvent.objects.filter(state="sent").count() == 30
    ids = [envelope_of(m)["eventId"] for m in consume_all(integration_queue)]
    assert sorted(ids) == sorted(str(event.id) for event in events)


@pytest.mark.django_db(transaction=True)
def test_a_sweep_racing_the_relays_right_after_commit_publishes_each_event_once(
    integration_queue,
):
    orders = [OrderFactory(status=OrderStatus.PAID) for _ in range(20)]
    done = threading.Event()
    swept: list[int] = []

    def sweep():
        try:
            while not done.is_set():
                swept.append(outbox_publish_pending())
        finally:
            connection.close()

    sweeper = threading.Thread(target=sweep)
    sweeper.start()
    try:
        for order in orders:
            services.order_transition(order_id=order.id, to_status=OrderStatus.CANCELLED)
    finally:
        done.set()
        sweeper.join(timeout=30)

    assert sum(swept) == 0
    assert OutboxEvent.objects.filter(state="sent").count() == 20
    ids = [envelope_of(m)["eventId"] for m in consume_all(integration_queue)]
    assert len(ids) == len(set(ids)) == 20


@pytest.mark.django_db(transaction=True)
def test_a_relay_skips_rows_another_relay_has_locked(integration_queue, relay_after_commit_lost):
    [event] = cancel_orders(1)
    lease_expired([event])
    results = []

    def relay():
        try:
            results.append(outbox_publish_pending())
        finally:
            connection.close()

    with transaction.atomic():
        OutboxEvent.objects.select_for_update().get(pk=event.pk)
        thread = threading.Thread(target=relay)
        thread.start()
        thread.join(timeout=10)

    assert results == [0]
    assert outbox_publish_pending() == 1
    assert len(consume_all(integration_queue)) == 1


@pytest.mark.django_db(transaction=True)
def test_a_sweep_stops_at_a_failed_publish_and_the_next_sweep_publishes_the_rest(
    integration_queue, monkeypatch, relay_after_commit_lost
):
    events = cancel_orders(3)
    lease_expired(events)
    real_publish = outbox.publish_envelope
    calls = []

    def publish_then_fail(envelope):
        calls.append(envelope["eventId"])
        if len(calls) == 2:
            raise ConnectionError("broker went away")
        real_publish(envelope)

    monkeypatch.setattr("orders.outbox.publish_envelope", publish_then_fail)

    assert outbox_publish_pending() == 1

    rows = {row.id: (row.state, row.attempts, row.last_error) for row in OutboxEvent.objects.all()}
    assert rows == {
        events[0].id: ("sent", 1, ""),
        events[1].id: ("pending", 1, "ConnectionError: broker went away"),
        events[2].id: ("publishing", 0, ""),
    }
    assert [envelope_of(m)["eventId"] for m in consume_all(integration_queue)] == [
        str(events[0].id)
    ]
    monkeypatch.setattr("orders.outbox.publish_envelope", real_publish)
    assert outbox_publish_pending() == 2


@pytest.mark.django_db(transaction=True)
def test_an_order_is_created_while_the_broker_is_down_and_its_payment_event_waits_for_the_sweep(
    customer_client, product_server, integration_queue, broker_down_then_up
):
    product_server.add_product(PRODUCT, price="5.00", quantity=3)

    response = customer_client.post(
        "/orders", {"items": [{"productId": PRODUCT, "quantity": 1}]}, format="json"
    )
    paid = customer_client.post(
        f"/orders/{response.json()['id']}/pay", {"paymentToken": "tok_visa"}, format="json"
    )

    assert (response.status_code, paid.status_code) == (201, 200)
    states = dict(OutboxEvent.objects.values_list("event_type", "state"))
    assert states == {"order.created": "not_routed", "order.paid": "pending"}

    broker_down_then_up()
    assert outbox_publish_pending() == 1
    event = OutboxEvent.objects.get(event_type="order.paid")
    assert [envelope_of(m)["eventId"] for m in consume_all(integration_queue)] == [str(event.id)]
