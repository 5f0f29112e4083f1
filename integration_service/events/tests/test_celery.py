"""The Celery app's configuration and ``celery beat`` driving the periodic sweeps."""

import sys
import time
from pathlib import Path

import pytest

from ecommerce_common.events import DEAD_LETTER_EXCHANGE, ORDER_EVENT_TASK, QUEUE
from ecommerce_common.infra import Process
from events.tests.conftest import SERVICE_DIR, wait_for


def test_the_worker_is_configured_for_at_least_once_delivery():
    from integration_service.celery import app

    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_acks_on_failure_or_timeout is False
    assert conf.worker_prefetch_multiplier == 1
    assert conf.accept_content == ["json"]
    assert conf.task_serializer == "json"
    assert conf.task_soft_time_limit < conf.task_time_limit
    work_queue = next(queue for queue in conf.task_queues if queue.name == QUEUE)
    assert work_queue.durable is True
    assert work_queue.queue_arguments["x-dead-letter-exchange"] == DEAD_LETTER_EXCHANGE


@pytest.mark.parametrize(
    "task",
    [
        "integration.relay_outbox",
        "integration.expire_orders",
        "integration.expire_reservations",
        "integration.repair_stock",
    ],
)
def test_periodic_tasks_have_a_queue_that_never_dead_letters(task, settings):
    from integration_service.celery import app

    queue = app.amqp.router.route({}, task)["queue"]

    assert queue.name == settings.PERIODIC_QUEUE
    assert "x-dead-letter-exchange" not in (queue.queue_arguments or {})


def test_order_events_are_routed_to_the_dead_lettering_work_queue():
    from integration_service.celery import app

    queue = app.amqp.router.route({}, ORDER_EVENT_TASK)["queue"]

    assert queue.name == QUEUE
    assert queue.queue_arguments["x-dead-letter-exchange"] == DEAD_LETTER_EXCHANGE


@pytest.mark.django_db(transaction=True)
def test_beat_schedules_the_sweeps_that_the_worker_runs(
    start_worker, product_service, order_service, broker, tmp_path
):
    intervals = {
        "RELAY_OUTBOX_INTERVAL_SECONDS": "0.5",
        "EXPIRE_ORDERS_INTERVAL_SECONDS": "0.5",
        "EXPIRE_RESERVATIONS_INTERVAL_SECONDS": "0.5",
        "REPAIR_STOCK_INTERVAL_SECONDS": "0.5",
    }
    start_worker(**intervals)
    beat_dir = tmp_path / "beat"
    beat = Process(
        "beat",
        [str(Path(sys.executable).with_name("celery")), "-A", "integration_service", "beat"],
        env={
            "CELERY_BROKER_URL": broker.url,
            "CELERY_BEAT_DIR": str(beat_dir),
            "PRODUCT_SERVICE_URL": product_service.url,
            "ORDER_SERVICE_URL": order_service.url,
            **intervals,
        },
        cwd=SERVICE_DIR,
        log_dir=tmp_path,
    ).start()
    try:
        order_service.wait_for_call("/internal/outbox/relay", count=2)
        order_service.wait_for_call("/internal/orders/expire")
        product_service.wait_for_call("/internal/reservations/expire")
        product_service.wait_for_call("/internal/stock/repair")
        wait_for(lambda: any(beat_dir.iterdir()), message="beat wrote no schedule file")
    finally:
        beat.stop()
        print(beat.log_tail(40))


@pytest.mark.django_db(transaction=True)
def test_a_worker_started_without_a_queue_option_never_consumes_the_dead_letters(
    start_worker, broker
):
    start_worker(queue_option=False)

    wait_for(lambda: broker.consumer_count("integration") == 1, message="worker never consumed")
    time.sleep(0.5)  # a consumer of the dead letters would be registered right after
    assert broker.consumer_count("integration.dead") == 0


@pytest.mark.django_db(transaction=True)
def test_the_worker_declares_the_dead_letter_queue_it_rejects_into(
    start_worker, broker, product_service, order_service
):
    from kombu import Connection

    with Connection(broker.url) as connection:
        connection.default_channel.queue_delete("integration.dead")
    start_worker()

    assert broker.dead_letter_count() == 0  # declared again by the worker (passive check)
