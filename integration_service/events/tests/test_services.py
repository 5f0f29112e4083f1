"""Recording and deduplication of order events (the handlers run against the stand-ins)."""

import pytest

from ecommerce_common.contracts import ORDER_CANCELLED, ORDER_CREATED, envelope_parse
from events import services
from events.models import Outcome, ProcessedEvent
from events.services import (
    ProcessingReport,
    dead_event_mark_replayed,
    malformed_event_record,
    order_event_process,
)
from events.tests.factories import EnvelopeFactory, ProcessedEventFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_client")]


@pytest.fixture
def paid_order(product_service, order_service):
    product_service.reserve("order-1")
    order_service.add("order-1", "paid")
    return envelope_parse(envelope=EnvelopeFactory(orderId="order-1"))


def test_order_event_process_applies_and_records_the_event(paid_order):
    report = order_event_process(event=paid_order, final_attempt=False)

    assert report == ProcessingReport(outcome=Outcome.APPLIED, result="confirmed", attempts=1)
    record = ProcessedEvent.objects.get(event_id=paid_order.event_id)
    assert record.event_type == "order.paid"
    assert record.order_id == "order-1"
    assert record.outcome == Outcome.APPLIED
    assert record.result == "confirmed"
    assert record.attempts == 1
    assert record.envelope == paid_order.envelope
    assert record.completed_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_first_delivery_costs_the_event_log_two_short_transactions(
    paid_order, django_assert_num_queries
):
    # The attempt counted by one INSERT … ON CONFLICT, committed on its own; BEGIN, lock,
    # UPDATE outcome, COMMIT.
    with django_assert_num_queries(5):
        report = order_event_process(event=paid_order, final_attempt=False)

    assert (report.outcome, report.attempts) == (Outcome.APPLIED, 1)


def test_a_redelivery_of_an_unfinished_event_counts_its_attempt(paid_order):
    ProcessedEventFactory(
        event_id=paid_order.event_id, envelope=paid_order.envelope, outcome=Outcome.FAILED,
        attempts=1,
    )  # fmt: skip

    report = order_event_process(event=paid_order, final_attempt=False)

    assert (report.outcome, report.attempts) == (Outcome.APPLIED, 2)
    assert ProcessedEvent.objects.get(event_id=paid_order.event_id).attempts == 2


def test_order_event_process_skips_an_event_already_applied(paid_order, product_service):
    order_event_process(event=paid_order, final_attempt=False)

    report = order_event_process(event=paid_order, final_attempt=False)

    assert report.outcome == Outcome.SKIPPED_DUPLICATE
    record = ProcessedEvent.objects.get(event_id=paid_order.event_id)
    assert record.outcome == Outcome.APPLIED
    assert record.attempts == 1
    assert record.duplicate_deliveries == 1
    assert len(product_service.calls_to("/commit")) == 1


def test_order_event_process_skips_an_event_recorded_ignored(product_service, order_service):
    record = ProcessedEventFactory(
        envelope=EnvelopeFactory(type=ORDER_CREATED), outcome=Outcome.IGNORED
    )

    report = order_event_process(
        event=envelope_parse(envelope=record.envelope), final_attempt=False
    )

    assert report.outcome == Outcome.SKIPPED_DUPLICATE
    assert product_service.calls == []


def test_order_event_process_records_an_ignored_event(product_service, order_service):
    event = envelope_parse(envelope=EnvelopeFactory(type=ORDER_CREATED))

    report = order_event_process(event=event, final_attempt=False)

    assert report.outcome == Outcome.IGNORED
    assert ProcessedEvent.objects.get(event_id=event.event_id).outcome == Outcome.IGNORED


def test_a_transient_failure_is_recorded_failed_and_the_next_attempt_applies(
    paid_order, product_service
):
    product_service.fail("/commit", status=503)

    first = order_event_process(event=paid_order, final_attempt=False)
    record = ProcessedEvent.objects.get(event_id=paid_order.event_id)
    assert first.outcome == Outcome.FAILED
    assert record.outcome == Outcome.FAILED
    assert "503" in record.last_error
    assert record.completed_at is None

    second = order_event_process(event=paid_order, final_attempt=False)

    record.refresh_from_db()
    assert second.outcome == Outcome.APPLIED
    assert record.attempts == 2
    assert record.last_error == ""


def test_a_transient_failure_on_the_final_attempt_is_dead(paid_order, product_service):
    product_service.fail("/commit", status=500)

    report = order_event_process(event=paid_order, final_attempt=True)

    assert report.outcome == Outcome.DEAD
    assert ProcessedEvent.objects.get(event_id=paid_order.event_id).outcome == Outcome.DEAD


def test_a_permanent_failure_is_dead_at_once(product_service, order_service):
    product_service.reserve("order-1")
    event = envelope_parse(envelope=EnvelopeFactory(orderId="order-1"))  # order unknown: 404

    report = order_event_process(event=event, final_attempt=False)

    assert report.outcome == Outcome.DEAD
    record = ProcessedEvent.objects.get(event_id=event.event_id)
    assert record.outcome == Outcome.DEAD
    assert "404" in record.last_error


def test_a_dead_event_is_handled_again_when_replayed(paid_order, product_service):
    product_service.fail("/commit", status=503)
    order_event_process(event=paid_order, final_attempt=True)

    report = order_event_process(event=paid_order, final_attempt=False)

    assert report.outcome == Outcome.APPLIED
    assert ProcessedEvent.objects.get(event_id=paid_order.event_id).attempts == 2


def test_an_unexpected_error_in_a_handler_is_dead(paid_order, monkeypatch):
    def broken(*, event):
        raise KeyError("bug")

    monkeypatch.setattr("events.services.order_event_handle", broken)

    report = order_event_process(event=paid_order, final_attempt=False)

    assert report.outcome == Outcome.DEAD
    assert "KeyError" in ProcessedEvent.objects.get(event_id=paid_order.event_id).last_error


def test_malformed_event_record_keeps_an_envelope_that_names_an_event_id():
    envelope = {"eventId": "evt-1", "type": "order.paid", "orderId": 7}

    record = malformed_event_record(envelope=envelope, error="orderId: must be a string")

    assert record.outcome == Outcome.DEAD
    assert record.order_id == ""
    assert record.envelope == envelope
    assert record.last_error == "orderId: must be a string"


@pytest.mark.parametrize("envelope", [None, [], {"type": "order.paid"}, {"eventId": 5}])
def test_malformed_event_record_keeps_nothing_without_an_event_id(envelope):
    assert malformed_event_record(envelope=envelope, error="bad") is None
    assert ProcessedEvent.objects.count() == 0


def test_malformed_event_record_never_overwrites_an_applied_event():
    record = ProcessedEventFactory(envelope=EnvelopeFactory(type=ORDER_CANCELLED))

    malformed_event_record(envelope={"eventId": record.event_id}, error="bad")

    record.refresh_from_db()
    assert record.outcome == Outcome.APPLIED


def test_dead_event_mark_replayed_counts_replays():
    record = ProcessedEventFactory(outcome=Outcome.DEAD)

    dead_event_mark_replayed(event_id=record.event_id)
    dead_event_mark_replayed(event_id=record.event_id)

    record.refresh_from_db()
    assert record.replays == 2


def test_a_delivery_overtaken_by_a_concurrent_one_counts_as_a_duplicate_not_an_attempt(
    product_service, order_service, monkeypatch
):
    record = ProcessedEventFactory(outcome=Outcome.RECEIVED, attempts=1, result="")
    attempt_record = services._attempt_record

    def count_the_attempt_then_let_the_other_delivery_finish(*, event):
        counted = attempt_record(event=event)
        ProcessedEvent.objects.filter(pk=counted.pk).update(outcome=Outcome.APPLIED)
        return counted

    monkeypatch.setattr(
        services, "_attempt_record", count_the_attempt_then_let_the_other_delivery_finish
    )

    report = order_event_process(
        event=envelope_parse(envelope=record.envelope), final_attempt=False
    )

    assert report.outcome == Outcome.SKIPPED_DUPLICATE
    record.refresh_from_db()
    assert record.attempts == 1
    assert record.duplicate_deliveries == 1
    assert product_service.calls == []


def test_an_ignored_event_recorded_dead_before_is_recorded_ignored_when_it_comes_again(
    product_service, order_service
):
    record = ProcessedEventFactory(
        envelope=EnvelopeFactory(type=ORDER_CREATED), outcome=Outcome.DEAD, result=""
    )

    report = order_event_process(
        event=envelope_parse(envelope=record.envelope), final_attempt=False
    )

    assert report.outcome == Outcome.IGNORED
    record.refresh_from_db()
    assert record.outcome == Outcome.IGNORED
    assert record.attempts == 2
