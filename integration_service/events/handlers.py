"""What each order event does to stock and order status (docs/ARCHITECTURE.md §6).

Every handler is safe to run twice: the product endpoints are idempotent per
order id and the order status endpoint per event id. Transport failures and
5xx answers surface as ``TransientError`` (retry later); answers that no retry
can change surface as ``PermanentError`` (dead letter).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import requests

from ecommerce_common import contracts
from ecommerce_common.contracts import (
    OrderEvent,
    OrderStatus,
    OrderTransitionErrorCode,
    StockErrorCode,
    error_answer_parse,
)
from ecommerce_common.http import ServiceCallError
from events import clients
from events.models import Outcome

logger = logging.getLogger(__name__)

# 4xx answers that a later attempt may well not get.
_TRANSIENT_STATUSES = frozenset({408, 425, 429})


class TransientError(Exception):
    """A failure worth retrying: timeout, connection error, 5xx, 429."""


class PermanentError(Exception):
    """A failure no retry can fix (an unknown order, a refused request)."""


@dataclass(frozen=True)
class HandlingResult:
    outcome: Outcome
    result: str


def _code(response: requests.Response) -> str:
    return error_answer_parse(response=response).code


def _describe(response: requests.Response) -> str:
    return f"{response.request.method} {response.url} answered {response.status_code}: {response.text[:300]}"


def _call(call: Callable[[], requests.Response]) -> requests.Response:
    try:
        response = call()
    except ServiceCallError as exc:
        raise TransientError(str(exc)) from exc
    if response.status_code in _TRANSIENT_STATUSES:
        raise TransientError(_describe(response))
    return response


def _reservation(order_id: str, action: str) -> requests.Response:
    return _call(
        lambda: clients.product_service().post(
            f"/internal/reservations/{order_id}/{action}", idempotent=True
        )
    )


def _order_status_set(*, event: OrderEvent, status: str, reason: str) -> requests.Response:
    return _call(
        lambda: clients.order_service().put(
            f"/internal/orders/{event.order_id}/status",
            json={"status": status, "reason": reason, "eventId": event.event_id},
        )
    )


def _release_committed_stock(event: OrderEvent) -> HandlingResult:
    response = _reservation(event.order_id, "release")
    if response.status_code in (200, 404):
        return HandlingResult(Outcome.APPLIED, "order moved on; committed stock released")
    raise PermanentError(_describe(response))


def order_paid_handle(*, event: OrderEvent) -> HandlingResult:
    """Commit the order's reserved stock, then confirm it (or mark it out of stock)."""
    commit = _reservation(event.order_id, "commit")
    if commit.status_code == 409 and _code(commit) == StockErrorCode.RESERVATION_NOT_ACTIVE:
        # The reservation was released or expired: the stock is gone. order_service refunds.
        response = _order_status_set(
            event=event, status=OrderStatus.OUT_OF_STOCK, reason="reservation no longer active"
        )
        if response.status_code == 200:
            return HandlingResult(Outcome.APPLIED, OrderStatus.OUT_OF_STOCK)
        if (
            response.status_code == 409
            and _code(response) == OrderTransitionErrorCode.ILLEGAL_TRANSITION
        ):
            logger.info(
                "order moved on before it could be marked out of stock",
                extra={"orderId": event.order_id, "eventId": event.event_id},
            )
            return HandlingResult(Outcome.APPLIED, "order moved on; nothing committed")
        raise PermanentError(_describe(response))
    if commit.status_code != 200:
        raise PermanentError(_describe(commit))

    response = _order_status_set(
        event=event, status=OrderStatus.CONFIRMED, reason="stock committed for the paid order"
    )
    if response.status_code == 200:
        return HandlingResult(Outcome.APPLIED, OrderStatus.CONFIRMED)
    if (
        response.status_code == 409
        and _code(response) == OrderTransitionErrorCode.ILLEGAL_TRANSITION
    ):
        if error_answer_parse(response=response).reported_status == OrderStatus.CONFIRMED:
            return HandlingResult(Outcome.APPLIED, "already confirmed")
        # Cancelled (or otherwise moved on) while we committed: give the stock back so
        # nothing is sold for an order that will never ship.
        logger.warning(
            "order no longer confirmable after its stock was committed; releasing it",
            extra={"orderId": event.order_id, "eventId": event.event_id},
        )
        return _release_committed_stock(event)
    raise PermanentError(_describe(response))


def reservation_release_handle(*, event: OrderEvent) -> HandlingResult:
    """Return the order's reserved (or committed) stock to sale."""
    response = _reservation(event.order_id, "release")
    if response.status_code == 200:
        return HandlingResult(Outcome.APPLIED, "released")
    if response.status_code == 404:
        return HandlingResult(Outcome.APPLIED, "nothing to release")
    raise PermanentError(_describe(response))


HANDLERS: dict[str, Callable[..., HandlingResult]] = {
    contracts.ORDER_PAID: order_paid_handle,
    contracts.ORDER_PAYMENT_FAILED: reservation_release_handle,
    contracts.ORDER_CANCELLED: reservation_release_handle,
    contracts.ORDER_EXPIRED: reservation_release_handle,
}


def acts_on(event_type: str) -> bool:
    return event_type in HANDLERS


def order_event_handle(*, event: OrderEvent) -> HandlingResult:
    """Apply ``event``; types this worker does not act on are ignored."""
    handler = HANDLERS.get(event.event_type)
    if handler is None:
        return HandlingResult(Outcome.IGNORED, "no action for this event type")
    return handler(event=event)
