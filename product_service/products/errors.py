"""The error codes product_service answers with, rendered by the shared exception handler."""

from __future__ import annotations

from enum import StrEnum

from rest_framework import status

from ecommerce_common.contracts import StockErrorCode
from ecommerce_common.errors import ApiError, Conflict


class ProductErrorCode(StrEnum):
    INVALID = "invalid"
    INVALID_FILTER = "invalid_filter"
    # The answers to the reservation calls, which order_service and the worker read: the
    # contract's values.
    UNKNOWN_PRODUCT = StockErrorCode.UNKNOWN_PRODUCT.value
    INSUFFICIENT_STOCK = StockErrorCode.INSUFFICIENT_STOCK.value
    RESERVATION_NOT_FOUND = StockErrorCode.RESERVATION_NOT_FOUND.value
    RESERVATION_NOT_ACTIVE = StockErrorCode.RESERVATION_NOT_ACTIVE.value
    RESERVATION_IN_PROGRESS = StockErrorCode.RESERVATION_IN_PROGRESS.value
    ORDER_ID_REUSED = "order_id_reused"
    DUPLICATE_REVIEW = "duplicate_review"
    OWN_PRODUCT_REVIEW = "own_product_review"
    PRODUCT_HAS_RESERVATIONS = "product_has_reservations"
    STOCK_CHANGED = "stock_changed"


class InvalidFilter(ApiError):
    default_code = ProductErrorCode.INVALID_FILTER
    default_detail = "Invalid filter."


class UnknownProduct(ApiError):
    default_code = ProductErrorCode.UNKNOWN_PRODUCT
    default_detail = "Unknown product."


class InsufficientStock(Conflict):
    default_code = ProductErrorCode.INSUFFICIENT_STOCK
    default_detail = "not sufficient inventory"


class ReservationNotFound(ApiError):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = ProductErrorCode.RESERVATION_NOT_FOUND
    default_detail = "No reservation for this order."


class ReservationNotActive(Conflict):
    default_code = ProductErrorCode.RESERVATION_NOT_ACTIVE
    default_detail = "The reservation was released or has expired."


class ReservationInProgress(Conflict):
    default_code = ProductErrorCode.RESERVATION_IN_PROGRESS
    default_detail = "A reservation for this order is being made; retry shortly."


class OrderIdReused(Conflict):
    default_code = ProductErrorCode.ORDER_ID_REUSED
    default_detail = "This order id already belongs to another stock operation."


class DuplicateReview(Conflict):
    default_code = ProductErrorCode.DUPLICATE_REVIEW
    default_detail = "You have already reviewed this product."


class OwnProductReview(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = ProductErrorCode.OWN_PRODUCT_REVIEW
    default_detail = "A seller cannot review their own product."


class ProductHasReservations(Conflict):
    default_code = ProductErrorCode.PRODUCT_HAS_RESERVATIONS
    default_detail = "The product has stock reserved by open orders; try again later."


class StockChanged(Conflict):
    default_code = ProductErrorCode.STOCK_CHANGED
    default_detail = "Orders took some of this stock meanwhile; read the quantity again and retry."
