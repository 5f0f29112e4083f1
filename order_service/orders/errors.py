"""The orders app's error codes and the exceptions that carry them (rendered by the shared
exception handler as ``{"message", "code", "errors"}``).
"""

from __future__ import annotations

from enum import StrEnum

from rest_framework import status

from ecommerce_common.contracts import OrderTransitionErrorCode, illegal_transition_errors
from ecommerce_common.errors import ApiError, Conflict, ServiceUnavailable


class OrderErrorCode(StrEnum):
    INSUFFICIENT_STOCK = "insufficient_stock"
    UNKNOWN_PRODUCT = "unknown_product"
    INVALID_PRODUCT = "invalid_product"
    TOTAL_MISMATCH = "total_mismatch"
    # Read by integration_service: the contract's value.
    ILLEGAL_TRANSITION = OrderTransitionErrorCode.ILLEGAL_TRANSITION.value
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    INVALID_IDEMPOTENCY_KEY = "invalid_idempotency_key"
    IDEMPOTENCY_KEY_IN_USE = "idempotency_key_in_use"
    PRODUCT_SERVICE_UNAVAILABLE = "product_service_unavailable"
    TOO_MANY_OPEN_ORDERS = "too_many_open_orders"
    LINE_QUANTITY_LIMIT = "line_quantity_limit"


class InsufficientStock(Conflict):
    default_code = OrderErrorCode.INSUFFICIENT_STOCK
    # The old system's message, which its clients match on.
    default_detail = "not sufficient inventory"


class TooManyOpenOrders(Conflict):
    default_code = OrderErrorCode.TOO_MANY_OPEN_ORDERS
    default_detail = (
        "Too many orders are awaiting payment; pay or cancel one before placing another."
    )


class LineQuantityLimit(Conflict):
    default_code = OrderErrorCode.LINE_QUANTITY_LIMIT
    default_detail = "An order line asks for more units of a product than one order may hold."


class UnknownProduct(ApiError):
    default_code = OrderErrorCode.UNKNOWN_PRODUCT
    default_detail = "A product in the order does not exist."


class InvalidProduct(ApiError):
    default_code = OrderErrorCode.INVALID_PRODUCT
    default_detail = "The product service rejected the order's items."


class TotalMismatch(ApiError):
    default_code = OrderErrorCode.TOTAL_MISMATCH
    default_detail = "totalAmount does not match the order's price; prices come from the catalogue."


class IllegalTransition(Conflict):
    default_code = OrderErrorCode.ILLEGAL_TRANSITION

    def __init__(self, *, source: str, target: str) -> None:
        super().__init__(
            f"An order cannot go from {source} to {target}.",
            errors=illegal_transition_errors(status=source, requested=target),
        )


class IdempotencyKeyReused(ApiError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = OrderErrorCode.IDEMPOTENCY_KEY_REUSED
    default_detail = "This Idempotency-Key was already used with a different request body."


class IdempotencyKeyInUse(Conflict):
    default_code = OrderErrorCode.IDEMPOTENCY_KEY_IN_USE
    default_detail = "A request with this Idempotency-Key is still being processed; retry shortly."


class InvalidIdempotencyKey(ApiError):
    default_code = OrderErrorCode.INVALID_IDEMPOTENCY_KEY
    default_detail = "Idempotency-Key must be 1 to 255 printable ASCII characters."


class ProductServiceUnavailable(ServiceUnavailable):
    default_code = OrderErrorCode.PRODUCT_SERVICE_UNAVAILABLE
    default_detail = "The product service is unavailable; no order was created. Try again."
