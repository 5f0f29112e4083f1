"""The periodic sweeps: each asks a service to do its own housekeeping (CONVENTIONS.md).

A failed sweep is logged and dropped: the next tick of the schedule is the retry.
"""

from __future__ import annotations

import logging
from typing import Any

from ecommerce_common.http import ServiceCallError, ServiceClient
from events import clients

logger = logging.getLogger(__name__)


def _trigger(*, name: str, client: ServiceClient, path: str) -> dict[str, Any] | None:
    try:
        response = client.post(path)
    except ServiceCallError as exc:
        logger.warning("periodic task failed", extra={"task": name, "error": str(exc)})
        return None
    if response.status_code != 200:
        logger.error(
            "periodic task refused",
            extra={"task": name, "status": response.status_code, "body": response.text[:300]},
        )
        return None
    try:
        body = response.json()
    except ValueError:
        body = {}
    logger.info("periodic task done", extra={"task": name, "result": body})
    return body


def outbox_relay_trigger() -> dict[str, Any] | None:
    return _trigger(
        name="relay_outbox", client=clients.order_service(), path="/internal/outbox/relay"
    )


def orders_expire_trigger() -> dict[str, Any] | None:
    return _trigger(
        name="expire_orders", client=clients.order_service(), path="/internal/orders/expire"
    )


def reservations_expire_trigger() -> dict[str, Any] | None:
    return _trigger(
        name="expire_reservations",
        client=clients.product_service(),
        path="/internal/reservations/expire",
    )


def stock_repair_trigger() -> dict[str, Any] | None:
    return _trigger(
        name="repair_stock", client=clients.product_service(), path="/internal/stock/repair"
    )
