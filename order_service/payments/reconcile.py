"""Reconciliation: settle payments whose outcome this service does not know, by asking the gateway.

A payment is *unsettled* when its gateway call ended without an answer: ``uncertain`` (the
gateway timed out), ``error`` (it failed), or ``processing`` for longer than
``PAYMENT_ATTEMPT_STALE_SECONDS`` (the attempt's process died between the charge and recording
it). In each case the charge may have gone through. ``payment_reconcile`` looks the charge up by
its idempotency key (the order id) and applies what the gateway did through the same
``payment_outcome_apply`` as the payment step: an approved charge makes a ``payment_pending``
order ``paid`` (and the normal pipeline confirms it), or is refunded when the order will never
ship; a decline fails the order; no charge at all marks the payment ``not_charged``.

It runs before an order with an unsettled payment is expired or cancelled
(``orders.services``), and periodically for every unsettled payment
(``payments_reconcile_due``, on the expiry tick), so a customer who was charged without an
answer ends with a confirmed order or a refund, never both and never neither.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from payments.gateway import GatewayError, get_gateway
from payments.models import Payment, PaymentStatus
from payments.services import payment_outcome_apply

logger = logging.getLogger(__name__)


def _unsettled() -> Q:
    stale_before = timezone.now() - timedelta(seconds=settings.PAYMENT_ATTEMPT_STALE_SECONDS)
    return Q(status__in=[PaymentStatus.ERROR, PaymentStatus.UNCERTAIN]) | Q(
        status=PaymentStatus.PROCESSING, updated_at__lt=stale_before
    )


def payment_reconcile(*, order_id: UUID) -> bool:
    """Settle the order's payment if its outcome is unknown; False while it still is (the
    gateway did not answer, or an attempt is deciding it right now)."""
    payment = Payment.objects.filter(_unsettled(), order_id=order_id).first()
    if payment is None:
        return True
    extra = {"order_id": str(order_id), "payment_id": str(payment.pk)}
    try:
        result = get_gateway().find_charge(idempotency_key=str(order_id))
    except GatewayError as exc:
        logger.warning(
            "payment reconciliation: the gateway did not answer; will retry",
            extra={**extra, "error": f"{exc.__class__.__name__}: {exc}"},
        )
        return False
    if result is None:
        # Only if nobody moved the payment meanwhile: a retry in flight decides it instead.
        marked = Payment.objects.filter(
            pk=payment.pk, status=payment.status, updated_at=payment.updated_at
        ).update(
            status=PaymentStatus.NOT_CHARGED,
            last_error="reconciled: the gateway made no charge",
            updated_at=timezone.now(),
        )
        logger.info("payment reconciled: no charge was made", extra=extra)
        return bool(marked)
    order, payment = payment_outcome_apply(order_id=order_id, payment=payment, result=result)
    logger.info(
        "payment reconciled",
        extra={**extra, "payment_status": payment.status, "order_status": order.status},
    )
    return True


def payments_reconcile_due(*, limit: int = 100) -> int:
    """The periodic job: reconcile unsettled payments, oldest first; return how many settled."""
    order_ids = list(
        Payment.objects.filter(_unsettled())
        .order_by("updated_at")
        .values_list("order_id", flat=True)[:limit]
    )
    return sum(payment_reconcile(order_id=order_id) for order_id in order_ids)
