"""The periodic sweeps against the stand-ins, and their schedule."""

import pytest

from events.periodic import (
    orders_expire_trigger,
    outbox_relay_trigger,
    reservations_expire_trigger,
    stock_repair_trigger,
)

pytestmark = pytest.mark.usefixtures("fast_client")


def test_outbox_relay_trigger_asks_order_service_to_relay(order_service):
    assert outbox_relay_trigger() == {"published": 0}
    [call] = order_service.calls
    assert (call.method, call.path) == ("POST", "/internal/outbox/relay")


def test_orders_expire_trigger_asks_order_service_to_expire(order_service):
    assert orders_expire_trigger() == {"expired": 0}
    assert order_service.calls[0].path == "/internal/orders/expire"


def test_reservations_expire_trigger_asks_product_service_to_expire(product_service):
    assert reservations_expire_trigger() == {"released": 0}
    assert product_service.calls[0].path == "/internal/reservations/expire"


def test_stock_repair_trigger_asks_product_service_to_repair_its_stock(product_service):
    assert stock_repair_trigger() == {"mended": 0}
    [call] = product_service.calls
    assert (call.method, call.path) == ("POST", "/internal/stock/repair")


def test_a_failing_sweep_is_logged_and_dropped(order_service, caplog):
    order_service.fail("/relay", status=503)

    assert outbox_relay_trigger() is None
    assert "periodic task failed" in caplog.text


def test_a_refused_sweep_is_logged_and_dropped(product_service, caplog):
    product_service.fail("/expire", status=403)

    assert reservations_expire_trigger() is None
    assert "periodic task refused" in caplog.text


def test_beat_schedules_the_sweeps_and_the_stock_repair(settings):
    schedule = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert set(schedule) == {
        "integration.relay_outbox",
        "integration.expire_orders",
        "integration.expire_reservations",
        "integration.repair_stock",
    }
    assert (
        schedule["integration.relay_outbox"]["schedule"] == settings.RELAY_OUTBOX_INTERVAL_SECONDS
    )
    assert (
        schedule["integration.repair_stock"]["schedule"] == settings.REPAIR_STOCK_INTERVAL_SECONDS
    )
    assert all(entry["options"]["expires"] == entry["schedule"] for entry in schedule.values())
