"""What order_service adds to its ``/ready`` answer (``READY_DETAILS``): the outbox backlog.

order_service stays ready while the broker is down (the outbox holds the events), so the backlog
is what an operator watches: how many events wait to be published and for how long.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Min, QuerySet
from django.utils import timezone

from orders.models import OutboxEvent


def unsent_events() -> QuerySet[OutboxEvent]:
    """Events not yet sent: pending, or claimed and publishing (the partial index's rows)."""
    return OutboxEvent.objects.filter(
        state__in=[OutboxEvent.State.PENDING, OutboxEvent.State.PUBLISHING]
    )


def outbox_backlog() -> dict[str, Any]:
    """How many events wait to be published, and the age of the oldest."""
    backlog = unsent_events().aggregate(count=Count("id"), oldest=Min("created_at"))
    oldest = backlog["oldest"]
    age = round((timezone.now() - oldest).total_seconds(), 1) if oldest is not None else 0.0
    return {"outbox": {"pending": backlog["count"], "oldestPendingAgeSeconds": age}}
