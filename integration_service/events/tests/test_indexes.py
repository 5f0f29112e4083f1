"""Every query the worker makes per event is served by an index (EXPLAIN, no full scan).

``PER_EVENT`` is the one list of what an event delivery makes the event log do: a first
delivery, a redelivery of an applied event, an event the worker ignores, a failed attempt, a
malformed envelope and a replay. Each runs over 20,000 earlier events seeded in the table
(``ecommerce_common.testing.history``); every query it made that reads a table is planned, and
one that would read the table end to end fails the test (``ecommerce_common.testing.explain``).
``ADMIN_LISTS`` are the operator's pages over the event log, paged by its estimated size
(``ecommerce_common.admin.LargeTableAdmin``).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ecommerce_common.contracts import ORDER_CANCELLED, envelope_parse
from ecommerce_common.testing.explain import assert_page_uses_indexes, report, sequential_scans
from ecommerce_common.testing.history import EVENTS_SQL, history_seed
from events.models import Outcome, ProcessedEvent
from events.services import (
    dead_event_mark_replayed,
    malformed_event_record,
    order_event_mark_failed,
    order_event_process,
)
from events.tests.factories import EnvelopeFactory, ProcessedEventFactory

HISTORY = 20_000


def first_delivery(event):
    assert order_event_process(event=event, final_attempt=False).outcome == Outcome.APPLIED


def redelivery_of_an_applied_event(event):
    order_event_process(event=event, final_attempt=False)
    report = order_event_process(event=event, final_attempt=False)
    assert report.outcome == Outcome.SKIPPED_DUPLICATE


def ignored_event(event):
    ignored = envelope_parse(envelope=EnvelopeFactory(type="order.created"))
    assert order_event_process(event=ignored, final_attempt=False).outcome == Outcome.IGNORED


def failed_attempt(event):
    order_event_mark_failed(event=event, error="product_service answered 503", dead=False)


def malformed_envelope(event):
    assert malformed_event_record(envelope={"eventId": "evt-bad", "orderId": 7}, error="bad")


def replay_of_a_dead_event(event):
    dead = ProcessedEventFactory(outcome=Outcome.DEAD)
    dead_event_mark_replayed(event_id=dead.event_id)


PER_EVENT = [
    first_delivery,
    redelivery_of_an_applied_event,
    ignored_event,
    failed_attempt,
    malformed_envelope,
    replay_of_a_dead_event,
]


@pytest.fixture(scope="module")
def history(django_db_setup, django_db_blocker):
    """Earlier events in the log for this module's tests, with fresh statistics."""
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        history_seed(cursor, EVENTS_SQL, count=HISTORY, products=["65a000000000000000000001"])
        cursor.execute("ANALYZE")
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {ProcessedEvent._meta.db_table}")


@pytest.fixture
def paid_order(history, fast_client, product_service, order_service):
    product_service.reserve("order-1")
    order_service.add("order-1", "paid")
    return envelope_parse(envelope=EnvelopeFactory(orderId="order-1"))


@pytest.mark.django_db
@pytest.mark.parametrize("step", PER_EVENT, ids=lambda step: step.__name__)
def test_every_query_of_an_event_delivery_uses_an_index(paid_order, step):
    with CaptureQueriesContext(connection) as captured:
        step(paid_order)

    assert captured.captured_queries
    scans = sequential_scans(captured.captured_queries)
    assert scans == [], report(scans)


ADMIN_LISTS = [
    "/admin/events/processedevent/",
    "/admin/events/processedevent/?event_type=order.paid",
    "/admin/events/processedevent/?outcome__exact=dead",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ADMIN_LISTS)
def test_every_query_of_an_admin_list_uses_an_index(history, admin_client, url):
    assert_page_uses_indexes(admin_client, url)


@pytest.mark.django_db
def test_a_scan_of_the_event_log_is_reported(history):
    ProcessedEventFactory(envelope=EnvelopeFactory(type=ORDER_CANCELLED))

    with CaptureQueriesContext(connection) as captured:
        list(ProcessedEvent.objects.filter(last_error="x"))

    assert len(sequential_scans(captured.captured_queries)) == 1
