"""Dead letters from both sources: RabbitMQ's ``integration.dead`` and the event log."""

from io import StringIO

import pytest
from django.core.management import call_command
from kombu import Connection

from ecommerce_common.events import integration_queues
from events.dead_letters import (
    QueueDeadLetters,
    RecordedDeadLetters,
    _fresh_headers,
    dead_letter_source,
)
from events.models import Outcome, ProcessedEvent
from events.tests.conftest import wait_for
from events.tests.factories import EnvelopeFactory, ProcessedEventFactory


def test_dead_letter_source_reads_the_queue_on_rabbitmq(settings):
    settings.CELERY_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"

    assert isinstance(dead_letter_source(), QueueDeadLetters)


def test_dead_letter_source_reads_the_event_log_on_the_filesystem_transport(settings):
    settings.CELERY_BROKER_URL = "filesystem://"

    assert isinstance(dead_letter_source(), RecordedDeadLetters)
    assert isinstance(dead_letter_source(source="queue"), QueueDeadLetters)


def test_a_replayed_message_starts_again_from_retry_zero_without_its_death_record():
    headers = {
        "task": "integration.order_event",
        "retries": 8,
        "eta": "2026-01-01T00:00:00",
        "x-death": [{"reason": "rejected"}],
        "x-first-death-reason": "rejected",
        "x-first-death-queue": "integration",
    }

    assert _fresh_headers(headers) == {
        "task": "integration.order_event",
        "retries": 0,
        "eta": None,
        "expires": None,
    }


@pytest.mark.django_db
def test_recorded_dead_letters_lists_dead_events_and_flags_malformed_ones():
    dead = ProcessedEventFactory(outcome=Outcome.DEAD, last_error="answered 404")
    malformed = ProcessedEventFactory(
        outcome=Outcome.DEAD, envelope={"eventId": "evt-bad", "type": "order.paid"}
    )
    ProcessedEventFactory(outcome=Outcome.APPLIED)

    letters = {letter.event_id: letter for letter in RecordedDeadLetters().list()}

    assert set(letters) == {dead.event_id, malformed.event_id}
    assert letters[dead.event_id].reason == "answered 404"
    assert letters[dead.event_id].replayable is True
    assert letters[malformed.event_id].replayable is False


@pytest.mark.django_db
def test_recorded_dead_letters_replay_sends_the_recorded_envelope_to_the_work_queue(broker):
    dead = ProcessedEventFactory(outcome=Outcome.DEAD)
    ProcessedEventFactory(outcome=Outcome.DEAD, envelope={"eventId": "evt-bad"})

    replayed = RecordedDeadLetters().replay()

    assert [letter.event_id for letter in replayed] == [dead.event_id]
    with Connection(broker.url) as connection:
        message = integration_queues()[0](connection.channel()).get(no_ack=True)
    assert message.headers["task"] == "integration.order_event"
    assert message.headers["retries"] == 0
    assert message.payload[0] == [dead.envelope]
    dead.refresh_from_db()
    assert dead.replays == 1
    assert dead.outcome == Outcome.DEAD  # until the worker handles it again


@pytest.mark.django_db(transaction=True)
def test_a_dead_event_replayed_from_both_sources_is_applied_once(
    start_worker, broker, product_service, order_service
):
    start_worker()
    product_service.reserve("order-1")
    order_service.add("order-1", "paid")
    order_service.fail("/status", status=400, times=1)  # refused once: dead at once
    envelope = EnvelopeFactory(orderId="order-1")
    broker.publish(envelope)
    wait_for(
        lambda: ProcessedEvent.objects.filter(
            event_id=envelope["eventId"], outcome=Outcome.DEAD
        ).exists()
    )
    broker.wait_for_messages("integration.dead", 1)

    call_command("replay_dead_letters", "--source", "log", stdout=StringIO())
    wait_for(
        lambda: ProcessedEvent.objects.filter(
            event_id=envelope["eventId"], outcome=Outcome.APPLIED
        ).exists()
    )
    call_command("replay_dead_letters", stdout=StringIO())  # the copy still in integration.dead

    wait_for(
        lambda: ProcessedEvent.objects.get(event_id=envelope["eventId"]).duplicate_deliveries == 1
    )
    record = ProcessedEvent.objects.get(event_id=envelope["eventId"])
    assert record.replays == 2
    assert broker.dead_letter_count() == 0
    assert product_service.effects == [("commit", "order-1")]
    assert order_service.transitions == [("order-1", "paid", "confirmed")]


@pytest.mark.django_db
def test_replay_dead_letters_reports_event_ids_it_did_not_find(broker):
    output, errors = StringIO(), StringIO()

    call_command("replay_dead_letters", "--event-id", "evt-nowhere", stdout=output, stderr=errors)

    assert "0 dead letter(s) replayed" in output.getvalue()
    assert "evt-nowhere" in errors.getvalue()
