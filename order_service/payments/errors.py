"""The payment step's error codes and the exceptions that carry them (rendered by the shared
exception handler as ``{"message", "code", "errors"}``).
"""

from __future__ import annotations

from enum import StrEnum

from ecommerce_common.errors import ApiError, Conflict, ServiceUnavailable


class PaymentErrorCode(StrEnum):
    PAYMENT_DECLINED = "payment_declined"
    INVALID_PAYMENT_TOKEN = "invalid_payment_token"
    PAYMENT_GATEWAY_UNAVAILABLE = "payment_gateway_unavailable"
    ORDER_CLOSED_DURING_PAYMENT = "order_closed_during_payment"
    ALREADY_PAID = "already_paid"
    PAYMENT_IN_PROGRESS = "payment_in_progress"
    ORDER_EXPIRED = "order_expired"


class PaymentDeclined(ApiError):
    status_code = 402
    default_code = PaymentErrorCode.PAYMENT_DECLINED
    default_detail = "The payment was declined; the order is now payment_failed."


class InvalidPaymentTokenError(ApiError):
    default_code = PaymentErrorCode.INVALID_PAYMENT_TOKEN
    default_detail = "The payment token is not valid; nothing was charged."


class PaymentGatewayUnavailable(ServiceUnavailable):
    default_code = PaymentErrorCode.PAYMENT_GATEWAY_UNAVAILABLE
    default_detail = "The payment provider did not answer; nothing was recorded as paid. Try again."


class PaidTooLate(Conflict):
    default_code = PaymentErrorCode.ORDER_CLOSED_DURING_PAYMENT
    default_detail = (
        "The order was closed while the payment was processed; the charge was refunded."
    )


class OrderExpired(Conflict):
    default_code = PaymentErrorCode.ORDER_EXPIRED
    default_detail = "The payment window of this order has passed; the order has expired."


class AlreadyPaid(Conflict):
    default_code = PaymentErrorCode.ALREADY_PAID
    default_detail = "This order has already been paid; it was not charged again."


class PaymentInProgress(Conflict):
    default_code = PaymentErrorCode.PAYMENT_IN_PROGRESS
    default_detail = "A payment for this order is being processed; try again shortly."
