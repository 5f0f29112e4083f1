"""Every query the worker makes per event is answered from an index, on a large event log.

The event log is seeded in bulk (``HISTORY`` handled events) and analysed, so the planner
scans whatever an index does not serve. Each per-event path (an event applied, its duplicate
delivery, an ignored event, a failed attempt, a malformed envelope, a replay) runs under
``CaptureQueriesContext``; every statement it sent is explained and a ``Seq Scan`` fails.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ecommerce_common.events import ORDER_CREATED
from ecommerce_common.testing.query_plans import sequential_scans
from events.envelopes import envelope_parse
from events.models import ProcessedEvent
from events.services import dead_event_mark_replayed, malformed_event_record, order_event_process
from events.tests.factories import EnvelopeFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_client")]

HISTORY = 30_000

SEED = f"""
INSERT INTO {ProcessedEvent._meta.db_table}
    (event_id, event_type, order_id, outcome, result, attempts, duplicate_deliveries, replays,
     last_error, envelope, received_at, updated_at, completed_at)
SELECT gen_random_uuid()::text, 'order.paid', gen_random_uuid()::text,
       CASE WHEN n % 100 = 0 THEN 'dead' ELSE 'applied' END, 'confirmed', 1, 0, 0, '', '{{}}',
       now() - n * interval '1 second', now(), now()
FROM generate_series(1, {HISTORY}) AS n;
ANALYZE {ProcessedEvent._meta.db_table};
"""


@pytest.fixture
def history(db):
    with connection.cursor() as cursor:
        cursor.execute(SEED)


def _paid(product_service, order_service):
    envelope = EnvelopeFactory()
    product_service.reserve(envelope["orderId"])
    order_service.add(envelope["orderId"], "paid")
    return envelope_parse(envelope=envelope)


def _path_applied_then_duplicate(product_service, order_service):
    event = _paid(product_service, order_service)
    yield
    order_event_process(event=event, final_attempt=False)
    order_event_process(event=event, final_attempt=False)


def _path_ignored(product_service, order_service):
    event = envelope_parse(envelope=EnvelopeFactory(type=ORDER_CREATED))
    yield
    order_event_process(event=event, final_attempt=False)
    order_event_process(event=event, final_attempt=False)


def _path_failed_attempt_then_dead_and_replayed(product_service, order_service):
    event = _paid(product_service, order_service)
    product_service.fail("/commit", status=503, times=2)
    yield
    order_event_process(event=event, final_attempt=False)
    order_event_process(event=event, final_attempt=True)
    dead_event_mark_replayed(event_id=event.event_id)


def _path_malformed(product_service, order_service):
    yield
    malformed_event_record(envelope={"eventId": "not-an-envelope"}, error="no type")


PER_EVENT = {
    "applied, then its duplicate": _path_applied_then_duplicate,
    "ignored, twice": _path_ignored,
    "failed, dead on the final attempt, replayed": _path_failed_attempt_then_dead_and_replayed,
    "malformed": _path_malformed,
}


@pytest.mark.parametrize("path", list(PER_EVENT.values()), ids=list(PER_EVENT))
def test_each_per_event_path_is_answered_from_indexes_on_a_large_event_log(
    history, product_service, order_service, path
):
    steps = path(product_service, order_service)
    next(steps)  # set up, not recorded

    with CaptureQueriesContext(connection) as captured:
        next(steps, None)

    statements = [query["sql"] for query in captured.captured_queries]
    assert statements
    assert sequential_scans(connection, statements) == []
