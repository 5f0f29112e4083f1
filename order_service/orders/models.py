"""Orders, their line items and status history, the transactional outbox and idempotency keys."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property

from orders.status import OrderStatus


class Order(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # user_service's user id, as a string (ids are opaque across services).
    user_id = models.CharField(max_length=64, db_index=True)
    status = models.CharField(
        max_length=32, choices=OrderStatus.choices, default=OrderStatus.PAYMENT_PENDING
    )
    total_amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    # Unpaid past this moment, the order expires and its stock is released.
    payment_deadline = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user_id", "-created_at"], name="order_user_created_idx"),
            # The admin's list by status, newest first.
            models.Index(fields=["status", "-created_at"], name="order_status_created_idx"),
            models.Index(
                fields=["payment_deadline"],
                name="order_unpaid_deadline_idx",
                condition=Q(status=OrderStatus.PAYMENT_PENDING),
            ),
        ]

    def __str__(self) -> str:
        return f"order {self.id} ({self.status})"

    @property
    def status_label(self) -> str:
        return OrderStatus(self.status).label

    @cached_property
    def lines(self) -> list[OrderItem]:
        """The order's items, read once (items never change). Code that already holds them sets
        this (``order_create``, a ``Prefetch(..., to_attr="lines")``) and no query is made."""
        return list(self.items.all())


class OrderItem(models.Model):
    """A line as sold: title and unit price are snapshotted from the catalogue at reservation."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product_id = models.CharField(max_length=64)
    title = models.CharField(max_length=255)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "product_id"], name="order_item_product_unique"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="order_item_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.title}"


class StatusHistory(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=32, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=32, choices=OrderStatus.choices)
    reason = models.CharField(max_length=255, blank=True)
    # The event that caused the change (sent by integration_service), if any: a second delivery
    # of the same event to the same status is recognised by it and changes nothing.
    # NULL (not "") for "no event", so the partial unique constraint skips those rows.
    event_id = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    # The event this change published (through the outbox).
    published_event = models.OneToOneField(
        "OutboxEvent",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="status_change",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "status history"
        constraints = [
            models.UniqueConstraint(
                fields=["order", "event_id", "to_status"],
                condition=Q(event_id__isnull=False),
                name="status_history_event_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"


class OutboxEvent(models.Model):
    """An event written in the same transaction as the change it reports; the relay publishes it
    (``orders/outbox.py``). Rows are kept after publishing, for audit.
    """

    class State(models.TextChoices):
        # Waiting for the sweep (the publish right after commit failed).
        PENDING = "pending", "pending"
        # Claimed by a relay since ``claimed_at`` (new rows start claimed by the request that
        # wrote them); the sweep takes over a claim older than OUTBOX_CLAIM_LEASE_SECONDS.
        PUBLISHING = "publishing", "publishing"
        SENT = "sent", "sent"
        # An event no consumer acts on (not in WORKER_EVENT_TYPES): kept, never published.
        NOT_ROUTED = "not_routed", "not routed"

    id = models.UUIDField(primary_key=True, editable=False)  # the envelope's eventId
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="outbox_events")
    event_type = models.CharField(max_length=64)
    envelope = models.JSONField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            # The sweep's scan: rows not yet sent, oldest first.
            models.Index(
                fields=["created_at"],
                name="outbox_unsent_idx",
                condition=Q(state__in=["pending", "publishing"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.id} ({self.state})"


class IdempotencyKey(models.Model):
    """A ``POST /orders`` carrying an ``Idempotency-Key``, per user: claimed while the request
    runs (no response yet), then holding the first answer for replays."""

    user_id = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    # Who holds the key while the request runs; a claim older than the stale limit is taken over.
    claim_token = models.UUIDField()
    claimed_at = models.DateTimeField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_id", "key"], name="idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"

    @property
    def completed(self) -> bool:
        return self.response_status is not None
