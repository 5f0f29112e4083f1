"""The event log: one row per order event the worker has handled, keyed by its event id."""

from __future__ import annotations

from django.db import models


class Outcome(models.TextChoices):
    # Taken by a delivery that has not finished (yet): in progress, or its worker died.
    RECEIVED = "received", "received (in progress)"
    APPLIED = "applied", "applied"
    IGNORED = "ignored", "ignored"
    # A delivery of an event already applied or ignored. It is what the worker logs and
    # returns for such a delivery; the event's row keeps its first outcome and counts the
    # repeat in ``duplicate_deliveries``, so the log never forgets what really happened.
    SKIPPED_DUPLICATE = "skipped_duplicate", "skipped (duplicate)"
    FAILED = "failed", "failed (will retry)"
    DEAD = "dead", "dead-lettered"


# Outcomes after which a redelivery of the same event changes nothing.
FINAL_OUTCOMES = frozenset({Outcome.APPLIED, Outcome.IGNORED})


class ProcessedEvent(models.Model):
    event_id = models.CharField(max_length=100, unique=True)
    event_type = models.CharField(max_length=64, db_index=True)
    order_id = models.CharField(max_length=100, db_index=True)
    outcome = models.CharField(max_length=32, choices=Outcome.choices, db_index=True)
    result = models.CharField(
        max_length=200, blank=True, help_text="What handling the event did, e.g. 'confirmed'."
    )
    attempts = models.PositiveIntegerField(default=0)
    duplicate_deliveries = models.PositiveIntegerField(default=0)
    replays = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    envelope = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["outcome", "received_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} ({self.outcome})"
