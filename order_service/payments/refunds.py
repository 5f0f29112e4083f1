"""Refunds: scheduled in the transaction that cancels (or marks out of stock) a paid order, then
made through the gateway after the commit. A refund the gateway could not make stays
``refund_pending`` and is retried by the periodic sweep (``payments_refund_pending``).
"""

from __future__ import annotations

import logging
from uuid import UUID

from django.db import transaction

from payments.gateway import GatewayError, get_gateway
from payments.models import Payment, PaymentStatus

logger = logging.getLogger(__name__)


def refund_idempotency_key(order_id: UUID | str) -> str:
    return f"refund-{order_id}"


def payment_refund_schedule(*, order_id: UUID) -> bool:
    """Mark the order's approved payment for refund (inside the caller's transaction)."""
    scheduled = Payment.objects.filter(order_id=order_id, status=PaymentStatus.APPROVED).update(
        status=PaymentStatus.REFUND_PENDING
    )
    if scheduled:
        transaction.on_commit(lambda: payment_refund_attempt(order_id=order_id))
    return bool(scheduled)


def payment_refund_attempt(*, order_id: UUID) -> bool:
    """Refund the order's payment if one is due; True once it is refunded. Never raises."""
    try:
        with transaction.atomic():
            payment = (
                Payment.objects.select_for_update()
                .filter(order_id=order_id, status=PaymentStatus.REFUND_PENDING)
                .first()
            )
            if payment is None:
                return False
            payment.attempts += 1
            try:
                result = get_gateway().refund(
                    charge_id=payment.charge_id,
                    amount=payment.amount,
                    currency=payment.currency,
                    idempotency_key=refund_idempotency_key(order_id),
                )
            except GatewayError as exc:
                payment.last_error = f"refund: {exc.__class__.__name__}: {exc}"[:2000]
                payment.save(update_fields=["attempts", "last_error", "updated_at"])
                logger.warning("refund failed; will retry", extra={"order_id": str(order_id)})
                return False
            payment.status = PaymentStatus.REFUNDED
            payment.refund_id = result.refund_id
            payment.last_error = ""
            payment.save(
                update_fields=["attempts", "status", "refund_id", "last_error", "updated_at"]
            )
            logger.info("payment refunded", extra={"order_id": str(order_id)})
            return True
    except Exception:
        logger.exception("refund attempt crashed", extra={"order_id": str(order_id)})
        return False


def payments_refund_pending(*, limit: int = 100) -> int:
    """The sweep: retry every refund still due; return how many succeeded."""
    order_ids = list(
        Payment.objects.filter(status=PaymentStatus.REFUND_PENDING)
        .order_by("updated_at")
        .values_list("order_id", flat=True)[:limit]
    )
    return sum(payment_refund_attempt(order_id=order_id) for order_id in order_ids)
