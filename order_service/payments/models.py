"""One payment per order: the charge made through the gateway and its refund."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from orders.models import Order


class PaymentStatus(models.TextChoices):
    PROCESSING = "processing", "processing"  # the gateway call is in flight
    APPROVED = "approved", "approved"
    DECLINED = "declined", "declined"
    ERROR = "error", "error"  # the gateway failed or timed out; the attempt may be retried
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
        indexes = [
            # The refund sweep's scan: refunds still due, oldest first.
            models.Index(
                fields=["updated_at"],
                name="payment_refund_due_idx",
                condition=Q(status=PaymentStatus.REFUND_PENDING),
            )
        ]

    def __str__(self) -> str:
        return f"payment {self.id} for order {self.order_id} ({self.status})"
