import json

from ecommerce_common.logging import render_log_line


def test_a_worker_event_line_shows_time_type_ids_outcome_attempts_and_duration():
    line = json.dumps(
        {
            "time": "2026-12-02T17:48:15.123+00:00",
            "level": "INFO",
            "logger": "events.worker",
            "service": "integration_service",
            "message": "order event handled (...)",
            "request_id": "abc",
            "type": "order.paid",
            "orderId": "o-1",
            "eventId": "e-1",
            "outcome": "applied",
            "attempts": 1,
            "durationMs": 42.5,
        }
    )

    assert render_log_line(line) == (
        "2026-12-02 17:48:15.123 INFO    order.paid order=o-1 event=e-1 applied attempts=1 42.5ms"
    )


def test_other_json_lines_show_logger_message_and_extra_fields():
    line = json.dumps(
        {
            "time": "2026-12-02T17:48:15.123+00:00",
            "level": "WARNING",
            "logger": "orders.outbox",
            "service": "order_service",
            "message": "outbox publish failed; left pending",
            "request_id": "-",
            "event_id": "e-2",
        }
    )

    assert render_log_line(line) == (
        "2026-12-02 17:48:15.123 WARNING orders.outbox: outbox publish failed; left pending"
        " event_id=e-2"
    )


def test_celery_per_task_lines_are_left_out_and_plain_lines_kept():
    received = json.dumps({"level": "INFO", "logger": "celery.worker.strategy", "message": "x"})

    assert render_log_line(received) is None
    assert render_log_line("[2026-12-02 17:48:15] [1] [INFO] Booting worker\n") == (
        "[2026-12-02 17:48:15] [1] [INFO] Booting worker"
    )
