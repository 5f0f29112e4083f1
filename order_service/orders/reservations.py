"""product_service's stock reservations, as order_service uses them (CONVENTIONS.md).

Reserving is idempotent per order id on product_service's side, so the POST is retried on
transport errors like a safe call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache

from django.conf import settings

from ecommerce_common.contracts import StockErrorCode, error_answer_parse
from ecommerce_common.http import ServiceCallError, ServiceClient
from orders.errors import (
    InsufficientStock,
    InvalidProduct,
    ProductServiceUnavailable,
    UnknownProduct,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReservedLine:
    product_id: str
    title: str
    unit_price: Decimal
    quantity: int


@cache
def _client(base_url: str, token: str, timeout: float, retries: int) -> ServiceClient:
    return ServiceClient(
        base_url, internal_token=token, connect_timeout=2.0, read_timeout=timeout, retries=retries
    )


def product_service(*, quick: bool = False) -> ServiceClient:
    """The product_service client; ``quick`` for best-effort cleanup calls made while a
    request is already failing (one short attempt, so the client is not kept waiting)."""
    return _client(
        settings.PRODUCT_SERVICE_URL,
        settings.INTERNAL_API_TOKENS[0],
        2.0 if quick else settings.PRODUCT_SERVICE_TIMEOUT_SECONDS,
        0 if quick else 1,
    )


def reservation_create(
    *, order_id: str, items: list[tuple[str, int]], ttl_seconds: int
) -> list[ReservedLine]:
    """Reserve every line or none; return the lines with the catalogue's title and unit price."""
    payload = {
        "orderId": order_id,
        "items": [
            {"productId": product_id, "quantity": quantity} for product_id, quantity in items
        ],
        "ttlSeconds": ttl_seconds,
    }
    try:
        response = product_service().post("/internal/reservations", json=payload, idempotent=True)
    except ServiceCallError as exc:
        # The reservation may have been made before the failure: give it back if we can.
        reservation_release_quietly(order_id=order_id)
        raise ProductServiceUnavailable() from exc

    if response.status_code in (200, 201):
        try:
            lines = [
                ReservedLine(
                    product_id=str(line["productId"]),
                    title=str(line["title"]),
                    unit_price=Decimal(str(line["unitPrice"])).quantize(Decimal("0.01")),
                    quantity=int(line["quantity"]),
                )
                for line in response.json()["items"]
            ]
        except (ValueError, KeyError, TypeError, InvalidOperation) as exc:
            logger.error("unreadable reservation answer", extra={"order_id": order_id})
            reservation_release_quietly(order_id=order_id)
            raise ProductServiceUnavailable() from exc
        if sorted((line.product_id, line.quantity) for line in lines) != sorted(items):
            logger.error("reservation does not match the order", extra={"order_id": order_id})
            reservation_release_quietly(order_id=order_id)
            raise ProductServiceUnavailable()
        return lines

    answer = error_answer_parse(response=response)
    if response.status_code == 409 and answer.code in ("", StockErrorCode.INSUFFICIENT_STOCK):
        raise InsufficientStock(errors=answer.errors)
    if response.status_code == 400 and answer.code == StockErrorCode.UNKNOWN_PRODUCT:
        raise UnknownProduct(answer.message or None, errors=answer.errors)
    if response.status_code in (400, 404, 422):
        raise InvalidProduct(answer.message or None, errors=answer.errors)
    logger.error(
        "unexpected reservation answer",
        extra={"order_id": order_id, "status": response.status_code},
    )
    raise ProductServiceUnavailable()


def reservation_release_quietly(*, order_id: str) -> bool:
    """Release an order's reservation; best effort (an unreleased one expires by its TTL)."""
    try:
        response = product_service(quick=True).post(
            f"/internal/reservations/{order_id}/release", idempotent=True
        )
    except ServiceCallError:
        logger.warning("could not release reservation", extra={"order_id": order_id})
        return False
    return response.status_code in (200, 404)
