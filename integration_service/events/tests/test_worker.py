"""The worker as it runs in production: a real ``celery worker`` process, a real RabbitMQ
(a private vhost) and the test database, with the stand-ins for the other services."""

import contextlib
import json
import signal
import time
from io import StringIO

import pytest
import requests
from django.core.management import call_command
from prometheus_client.parser import text_string_to_metric_families

from ecommerce_common.contracts import ORDER_CANCELLED
from ecommerce_common.infra import free_port
from events.models import Outcome, ProcessedEvent
from events.tests.conftest import wait_for
from events.tests.factories import EnvelopeFactory

pytestmark = pytest.mark.django_db(transaction=True)


def recorded(event_id: str, outcome: Outcome, *, timeout: float = 20) -> ProcessedEvent:
    def find():
        return ProcessedEvent.objects.filter(event_id=event_id, outcome=outcome).first()

    return wait_for(find, timeout=timeout, message=f"{event_id} never became {outcome}")


def log_lines(worker) -> list[dict]:
    lines = []
    for line in worker.log_path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                lines.append(json.loads(line))
    return lines


def test_a_published_event_is_handled_recorded_and_logged(
    start_worker, broker, product_service, order_service
):
    worker = start_worker()
    product_service.reserve("order-1")
    order_service.add("order-1", "paid")
    envelope = EnvelopeFactory(orderId="order-1")

    broker.publish(envelope)

    record = recorded(envelope["eventId"], Outcome.APPLIED)
    assert record.result == "confirmed"
    assert record.attempts == 1
    assert product_service.effects == [("commit", "order-1")]
    assert order_service.orders["order-1"] == "confirmed"
    handled = wait_for(
        lambda: [line for line in log_lines(worker) if line.get("event") == "order event handled"]
    )
    assert handled[0]["eventId"] == envelope["eventId"]
    assert handled[0]["orderId"] == "order-1"
    assert handled[0]["type"] == "order.paid"
    assert handled[0]["outcome"] == "applied"
    assert handled[0]["attempt"] == 1
    assert handled[0]["attempts"] == 1
    assert handled[0]["durationMs"] > 0
    assert handled[0]["request_id"] not in (None, "", "-")


def test_the_worker_serves_the_metrics_of_all_its_task_processes(
    start_worker, broker, product_service, order_service, tmp_path
):
    folder = tmp_path / "prometheus"
    folder.mkdir()
    (folder / "counter_1.db").write_bytes(b"left by an earlier run")  # must be cleaned away
    port = free_port()
    start_worker(
        WORKER_METRICS_PORT=str(port),
        WORKER_METRICS_HOST="127.0.0.1",
        PROMETHEUS_MULTIPROC_DIR=str(folder),
        CELERY_WORKER_CONCURRENCY="2",
    )
    envelopes = []
    for order_id in ("order-1", "order-2", "order-3"):
        product_service.reserve(order_id)
        order_service.add(order_id, "paid")
        envelopes.append(EnvelopeFactory(orderId=order_id))
        broker.publish(envelopes[-1])
    for envelope in envelopes:
        recorded(envelope["eventId"], Outcome.APPLIED)

    def scraped() -> dict:
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    applied = (("outcome", "applied"), ("type", "order.paid"))
    samples = wait_for(
        lambda: (s := scraped()).get(("order_events_handled_total", applied)) == 3 and s
    )
    assert samples[("order_event_handling_duration_seconds_count", applied)] == 3
    depth = samples[("dead_letter_queue_depth", (("queue", "integration.dead"),))]
    assert depth == broker.dead_letter_count()


def test_the_same_event_delivered_twice_is_applied_once(
    start_worker, broker, product_service, order_service
):
    start_worker()
    product_service.reserve("order-1")
    order_service.add("order-1", "paid")
    product_service.slow("/commit", seconds=0.5)  # so both deliveries overlap
    envelope = EnvelopeFactory(orderId="order-1")

    broker.publish(envelope)
    broker.publish(envelope)

    record = recorded(envelope["eventId"], Outcome.APPLIED)
    wait_for(lambda: ProcessedEvent.objects.get(pk=record.pk).duplicate_deliveries == 1)
    broker.wait_for_messages("integration", 0)
    assert product_service.effects == [("commit", "order-1")]
    assert len(product_service.calls_to("/commit")) == 1
    assert order_service.transitions == [("order-1", "paid", "confirmed")]
    assert ProcessedEvent.objects.get(pk=record.pk).attempts == 1


def test_a_transient_failure_is_retried_with_backoff_until_it_succeeds(
    start_worker, broker, product_service, order_service
):
    worker = start_worker(
        EVENT_MAX_RETRIES="3", EVENT_RETRY_BACKOFF_SECONDS="0.5", EVENT_RETRY_JITTER="false"
    )
    product_service.reserve("order-1")
    order_service.add("order-1", "paid")
    product_service.fail("/commit", status=503, times=2)
    envelope = EnvelopeFactory(orderId="order-1")

    broker.publish(envelope, request_id="req-retried")

    record = recorded(envelope["eventId"], Outcome.APPLIED)
    assert record.attempts == 3
    assert record.last_error == ""
    first, second, third = (call.at for call in product_service.calls_to("/commit"))
    assert second - first >= 0.5
    assert third - second >= 1.0
    assert product_service.effects == [("commit", "order-1")]
    assert order_service.orders["order-1"] == "confirmed"
    assert broker.dead_letter_count() == 0
    lines = wait_for(
        lambda: (
            [line for line in log_lines(worker) if line.get("eventId") == envelope["eventId"]]
            if any(line.get("outcome") == "applied" for line in log_lines(worker))
            else None
        )
    )
    assert [(line["outcome"], line["attempt"]) for line in lines] == [
        ("failed", 1),
        ("failed", 2),
        ("applied", 3),
    ]
    # The publisher's request id follows the event through every retry.
    assert {line["request_id"] for line in lines} == {"req-retried"}
    assert {call.headers["X-Request-ID"] for call in product_service.calls} == {"req-retried"}


def test_an_event_failing_beyond_the_retry_limit_is_dead_lettered_then_replayed(
    start_worker, broker, product_service, order_service
):
    start_worker(EVENT_MAX_RETRIES="2")
    product_service.reserve("order-1")
    order_service.add("order-1", "paid")
    product_service.fail("/commit", status=503, times=1000)
    envelope = EnvelopeFactory(orderId="order-1")

    broker.publish(envelope)

    record = recorded(envelope["eventId"], Outcome.DEAD)
    broker.wait_for_messages("integration.dead", 1)
    assert record.attempts == 3
    assert "503" in record.last_error
    assert len(product_service.calls_to("/commit")) == 3
    listing = StringIO()
    call_command("replay_dead_letters", "--list", stdout=listing)
    assert envelope["eventId"] in listing.getvalue()
    assert "1 dead letter(s) in queue" in listing.getvalue()
    assert broker.dead_letter_count() == 1  # listing takes nothing away

    product_service.recover()
    output = StringIO()
    call_command("replay_dead_letters", stdout=output)

    assert "1 dead letter(s) replayed" in output.getvalue()
    record = recorded(envelope["eventId"], Outcome.APPLIED)
    assert record.attempts == 4  # the fresh delivery started again from retry 0
    assert record.replays == 1
    assert broker.dead_letter_count() == 0
    assert product_service.effects == [("commit", "order-1")]
    assert order_service.orders["order-1"] == "confirmed"


def test_a_permanent_failure_is_dead_lettered_without_retries(
    start_worker, broker, product_service, order_service
):
    start_worker()
    product_service.reserve("order-1")  # order_service does not know the order: 404
    envelope = EnvelopeFactory(orderId="order-1")

    broker.publish(envelope)

    record = recorded(envelope["eventId"], Outcome.DEAD)
    broker.wait_for_messages("integration.dead", 1)
    assert record.attempts == 1
    assert len(product_service.calls_to("/commit")) == 1


def test_replay_of_one_event_id_leaves_the_other_dead_letters(
    start_worker, broker, product_service, order_service
):
    start_worker()
    envelopes = [EnvelopeFactory(orderId=f"order-{n}", type=ORDER_CANCELLED) for n in (1, 2)]
    product_service.fail("/release", status=400, times=2)
    for envelope in envelopes:
        broker.publish(envelope)
    for envelope in envelopes:
        recorded(envelope["eventId"], Outcome.DEAD)
    broker.wait_for_messages("integration.dead", 2)

    call_command("replay_dead_letters", "--event-id", envelopes[0]["eventId"], stdout=StringIO())

    recorded(envelopes[0]["eventId"], Outcome.APPLIED)
    assert ProcessedEvent.objects.get(event_id=envelopes[1]["eventId"]).outcome == Outcome.DEAD
    broker.wait_for_messages("integration.dead", 1)


@pytest.mark.parametrize(
    "message",
    [
        {"args": [{"eventId": "evt-malformed", "type": "order.paid"}]},
        {"args": ["not an envelope"]},
        {"args": []},
        {"args": [EnvelopeFactory(eventId="evt-extra")], "kwargs": {"extra": 1}},
    ],
    ids=["missing-fields", "not-an-object", "no-envelope", "extra-argument"],
)
def test_a_malformed_envelope_goes_straight_to_the_dead_letters(
    start_worker, broker, product_service, order_service, message
):
    worker = start_worker()

    broker.publish(*message["args"], **message.get("kwargs", {}))

    broker.wait_for_messages("integration.dead", 1)
    assert product_service.calls == []
    assert order_service.calls == []
    rejected = wait_for(
        lambda: [
            line
            for line in log_lines(worker)
            if line.get("event") == "order event rejected: malformed envelope"
        ]
    )
    assert rejected[0]["outcome"] == "dead"
    if message["args"] and isinstance(message["args"][0], dict):
        event_id = message["args"][0]["eventId"]
        assert ProcessedEvent.objects.get(event_id=event_id).outcome == Outcome.DEAD


def test_a_worker_killed_mid_task_has_the_event_redelivered_and_applied_once(
    start_worker, broker, product_service, order_service
):
    worker = start_worker(SERVICE_READ_TIMEOUT="30")
    product_service.reserve("order-1")
    order_service.add("order-1", "paid")
    product_service.slow("/commit", seconds=3)
    envelope = EnvelopeFactory(orderId="order-1")

    broker.publish(envelope)
    product_service.wait_for_call("/commit")
    worker.signal(signal.SIGKILL)
    worker.popen.wait(timeout=10)
    assert ProcessedEvent.objects.get(event_id=envelope["eventId"]).outcome == Outcome.RECEIVED

    start_worker(SERVICE_READ_TIMEOUT="30")

    record = recorded(envelope["eventId"], Outcome.APPLIED, timeout=30)
    assert record.attempts == 2
    assert len(product_service.calls_to("/commit")) == 2
    time.sleep(3)  # let the killed worker's slow commit finish on the server side
    assert product_service.effects == [("commit", "order-1")]
    assert order_service.transitions == [("order-1", "paid", "confirmed")]
    assert broker.message_count("integration") == 0
    assert broker.dead_letter_count() == 0


def test_the_worker_keeps_its_heartbeat_fresh_for_the_liveness_check(start_worker):
    from events.liveness import main

    worker = start_worker()
    first = worker.heartbeat_file.stat().st_mtime

    wait_for(lambda: worker.heartbeat_file.stat().st_mtime > first, timeout=10)
    assert main(["--file", str(worker.heartbeat_file), "--max-age", "5"]) == 0

    worker.stop()
    time.sleep(1.5)
    assert main(["--file", str(worker.heartbeat_file), "--max-age", "1"]) == 1
