"""One payment per order: the charge made through the gateway and its refund."""

from __future__ import annotations

import uuid

from django.db import models

from orders.models import Order


class PaymentStatus(models.TextChoices):
    PROCESSING = "processing", "processing"  # the gateway call is in flight
    APPROVED = "approved", "approved"
    DECLINED = "declined", "declined"
    ERROR = "error", "error"  # the gateway failed; the attempt may be retried
    # The gateway timed out: the charge may have been made. Retried, or settled by reconciliation.
    UNCERTAIN = "uncertain", "uncertain"
    # Reconciliation found that the gateway made no charge; the order may be paid again.
    NOT_CHARGED = "not_charged", "not charged"
    REFUND_PENDING = "refund_pending", "refund pending"
    REFUNDED = "refunded", "refunded"


class Payment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # One per order: paying twice can never create a second charge.
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="payment")
    status = models.CharField(max_length=32, choices=PaymentStatus.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    provider = models.CharField(max_length=64)
    charge_id = models.CharField(max_length=128, blank=True)
    refund_id = models.CharField(max_length=128, blank=True)
    decline_reason = models.CharField(max_length=255, blank=True)
    last_error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        # The reconciliation and refund sweeps look payments up by status and age.
        indexes = [models.Index(fields=["status", "updated_at"], name="payment_status_updated")]

    def __str__(self) -> str:
        return f"payment {self.id} for order {self.order_id} ({self.status})"


class SimulatedGatewayEntry(models.Model):
    """The simulated gateway's ledger (``payments.gateway.SimulatedGateway``): each charge and
    refund it made, under its idempotency key. A real provider keeps this on its side; the
    simulator keeps it in this table so every process shares it. Empty with a real provider."""

    class Kind(models.TextChoices):
        CHARGE = "charge", "charge"
        REFUND = "refund", "refund"

    idempotency_key = models.CharField(max_length=255, primary_key=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    reference = models.CharField(max_length=128)  # the charge or refund id
    approved = models.BooleanField(default=True)
    decline_reason = models.CharField(max_length=255, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"simulated {self.kind} {self.reference} ({self.idempotency_key})"
