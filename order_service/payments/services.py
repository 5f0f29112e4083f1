"""The payment step: charge an order through the gateway, exactly once.

A ``processing`` Payment row (one per order) is committed before the gateway is called, so a
concurrent second attempt is refused; the gateway's idempotency key is the order id, so even a
retried attempt after a timeout never charges twice. The outcome is applied in a second
transaction (``payment_outcome_apply``): approved → ``paid``, declined → ``payment_failed``.
A gateway timeout leaves the payment ``uncertain`` (the charge may have gone through) and any
other failure ``error``; reconciliation (``payments/reconcile.py``) later asks the gateway.

Two attempts (or an attempt and the reconciliation) can learn the same charge's outcome: the
first to apply it wins and the others change nothing, so an order paid by that charge stays
paid. An approved charge is refunded only when its order will never ship (cancelled, expired,
payment failed), e.g. when it was closed while the charge was in flight.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ecommerce_common.db import db_values, insert_unless_exists
from ecommerce_common.user_auth import RemoteUser
from orders.errors import IllegalTransition
from orders.models import Order
from orders.selectors import order_locked
from orders.status import OrderStatus
from payments.errors import (
    AlreadyPaid,
    InvalidPaymentTokenError,
    OrderExpired,
    PaidTooLate,
    PaymentDeclined,
    PaymentGatewayUnavailable,
    PaymentInProgress,
)
from payments.gateway import (
    ChargeResult,
    GatewayError,
    GatewayTimeout,
    InvalidPaymentToken,
    get_gateway,
)
from payments.models import Payment, PaymentStatus
from payments.order_transitions import order_transitions
from payments.refunds import payment_refund_schedule

logger = logging.getLogger(__name__)

ALREADY_PAID_STATUSES = frozenset({OrderStatus.PAID, OrderStatus.CONFIRMED})
# Orders that will never ship: an approved charge that reaches one of them is refunded.
NEVER_SHIPS = frozenset({OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.PAYMENT_FAILED})
# A payment in one of these holds the charge's outcome; nobody applies an outcome over it.
SETTLED = frozenset(
    {
        PaymentStatus.APPROVED,
        PaymentStatus.DECLINED,
        PaymentStatus.REFUND_PENDING,
        PaymentStatus.REFUNDED,
    }
)


def order_pay(
    *, order_id: UUID, payment_token: str, user: RemoteUser | None = None
) -> tuple[Order, Payment]:
    """Charge a ``payment_pending`` order; return it ``paid`` with its payment.

    With a ``user``, only an order that user may see is paid (``Order.DoesNotExist`` otherwise).

    Raises ``PaymentDeclined`` (the order is then ``payment_failed``), ``AlreadyPaid``,
    ``PaymentInProgress``, ``OrderExpired``, ``IllegalTransition`` or a gateway error.
    """
    payment = _payment_begin(order_id=order_id, user=user)
    gateway = get_gateway()
    try:
        result = gateway.charge(
            amount=payment.amount,
            currency=payment.currency,
            token=payment_token,
            idempotency_key=str(order_id),
        )
    except InvalidPaymentToken as exc:
        _payment_error(payment_id=payment.pk, error="invalid payment token")
        raise InvalidPaymentTokenError(errors={"paymentToken": "Unknown payment token."}) from exc
    except GatewayError as exc:
        _payment_error(
            payment_id=payment.pk,
            error=f"{exc.__class__.__name__}: {exc}",
            status=PaymentStatus.UNCERTAIN
            if isinstance(exc, GatewayTimeout)
            else PaymentStatus.ERROR,
        )
        raise PaymentGatewayUnavailable() from exc
    except BaseException:
        _payment_error(payment_id=payment.pk, error="payment attempt crashed")
        raise
    order, payment = payment_outcome_apply(order_id=order_id, payment=payment, result=result)
    if not result.approved:
        raise PaymentDeclined(
            errors={"status": order.status, "declineReason": result.decline_reason}
        )
    if order.status in NEVER_SHIPS:
        logger.warning(
            "order closed while paying; charge refunded", extra={"order_id": str(order.pk)}
        )
        raise PaidTooLate(errors={"status": order.status})
    logger.info("order paid", extra={"order_id": str(order.pk), "payment_id": str(payment.pk)})
    return order, payment


def _payment_begin(*, order_id: UUID, user: RemoteUser | None = None) -> Payment:
    expired = False
    with transaction.atomic():
        order = order_locked(order_id=order_id, user=user)
        if order.status in ALREADY_PAID_STATUSES:
            raise AlreadyPaid()
        if order.status != OrderStatus.PAYMENT_PENDING:
            raise IllegalTransition(source=order.status, target=OrderStatus.PAID)
        now = timezone.now()
        if order.payment_deadline <= now:
            expired = True
        else:
            payment = Payment(
                order=order,
                status=PaymentStatus.PROCESSING,
                amount=order.total_amount,
                currency=order.currency,
                provider=get_gateway().name,
                attempts=1,
            )
            # The first attempt stores its payment; a later one finds the earlier attempt's.
            if insert_unless_exists(payment, conflict="order"):
                return payment
            payment = Payment.objects.get(order=order)
            stale_before = now - timedelta(seconds=settings.PAYMENT_ATTEMPT_STALE_SECONDS)
            if payment.status == PaymentStatus.PROCESSING and payment.updated_at > stale_before:
                raise PaymentInProgress()
            # An earlier attempt failed or was abandoned: try again under the same gateway key.
            payment.status = PaymentStatus.PROCESSING
            payment.attempts += 1
            payment.save(update_fields=["status", "attempts", "updated_at"])
            return payment
    if expired:
        order_transitions().expire(order_id=order_id)
        # Expiry first settles an earlier attempt's unknown outcome, which may have paid it.
        if Order.objects.filter(pk=order_id, status__in=ALREADY_PAID_STATUSES).exists():
            raise AlreadyPaid()
    raise OrderExpired()


def _payment_error(*, payment_id: UUID, error: str, status: str = PaymentStatus.ERROR) -> None:
    Payment.objects.filter(pk=payment_id, status=PaymentStatus.PROCESSING).update(
        status=status, last_error=error[:2000], updated_at=timezone.now()
    )


def payment_outcome_apply(
    *, order_id: UUID, payment: Payment, result: ChargeResult
) -> tuple[Order, Payment]:
    """Record what the gateway did with the order's charge and move the order to match.

    Approved: the order becomes ``paid`` if it is still ``payment_pending``; one that will never
    ship gets the charge refunded. Declined: ``payment_failed``. A payment already settled (by
    the attempt, or the reconciliation, that got there first with the same charge) is left as
    it is. ``payment`` is the caller's copy: the fields the outcome sets are set on it, or it is
    read again when it was settled first. Returns the order and payment as they now stand.
    """
    if result.approved:
        changes = {"status": PaymentStatus.APPROVED}
    else:
        changes = {"status": PaymentStatus.DECLINED, "decline_reason": result.decline_reason}
    changes.update(charge_id=result.charge_id, last_error="", updated_at=timezone.now())
    with transaction.atomic():
        # Lock order then payment, the order every transition takes them in. The payment is
        # locked by the conditional UPDATE that records the outcome (one statement, not a
        # locking read and a save); it matches nothing once another caller settled it.
        order = order_locked(order_id=order_id)
        if not _outcome_record(payment, changes):
            return order, Payment.objects.get(pk=payment.pk)
        for name, value in changes.items():
            setattr(payment, name, value)
        if order.status == OrderStatus.PAYMENT_PENDING:
            if result.approved:
                to_status, reason = OrderStatus.PAID, "payment approved"
            else:
                to_status = OrderStatus.PAYMENT_FAILED
                reason = f"payment declined: {result.decline_reason}"
            order_transitions().status_apply(order=order, to_status=to_status, reason=reason)
        elif result.approved and order.status in NEVER_SHIPS:
            payment_refund_schedule(order_id=order.pk)
            payment.status = PaymentStatus.REFUND_PENDING
    return order, payment


# The outcome's conditional UPDATE as a plain statement (the ORM compiled it on every payment);
# only placeholders are formatted in.
_OUTCOME_SQL = """
    UPDATE payments_payment
    SET status = %s, decline_reason = COALESCE(%s, decline_reason), charge_id = %s,
        last_error = %s, updated_at = %s
    WHERE id = %s AND status NOT IN ({settled})
""".format(settled=", ".join(["%s"] * len(SETTLED)))  # noqa: S608


def _outcome_record(payment: Payment, changes: dict) -> bool:
    """Store ``changes`` on the payment unless it is settled already (a decline reason only
    when ``changes`` has one); whether it was."""
    params = db_values(
        Payment,
        status=changes["status"],
        decline_reason=changes.get("decline_reason"),
        charge_id=changes["charge_id"],
        last_error=changes["last_error"],
        updated_at=changes["updated_at"],
        pk=payment.pk,
    )
    with connection.cursor() as cursor:
        cursor.execute(_OUTCOME_SQL, [*params, *sorted(SETTLED)])
        return cursor.rowcount == 1
