"""order_service's metrics: order transitions by status, and the outbox's unsent rows with the
age of the oldest (read when scraped). Served with the shared ones (``ecommerce_common.metrics``).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db import transaction
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

ORDER_TRANSITIONS = Counter(
    "order_transitions_total",
    "Committed order status changes, by the status left (none for a new order) and reached.",
    ["from_status", "to_status"],
)


def order_transition_record(*, from_status: str, to_status: str) -> None:
    """Count the transition once the transaction that makes it commits."""
    child = ORDER_TRANSITIONS.labels(from_status or "none", to_status)
    transaction.on_commit(child.inc)


class OutboxCollector:
    """``outbox_pending_rows`` (by state: pending, or publishing) and
    ``outbox_oldest_pending_age_seconds``: rows not yet sent, one query on the partial index
    of unsent rows."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from orders.models import OutboxEvent

        State = OutboxEvent.State
        unsent = (
            OutboxEvent.objects.filter(state__in=[State.PENDING, State.PUBLISHING])
            .order_by()
            .values("state")
            .annotate(rows=Count("id"), oldest=Min("created_at"))
        )
        counts = {State.PENDING.value: 0, State.PUBLISHING.value: 0}
        oldest = None
        for group in unsent:
            counts[group["state"]] = group["rows"]
            oldest = group["oldest"] if oldest is None else min(oldest, group["oldest"])
        rows = GaugeMetricFamily(
            "outbox_pending_rows", "Outbox rows not yet sent to the broker.", labels=["state"]
        )
        for state, count in counts.items():
            rows.add_metric([state], count)
        yield rows
        age = (timezone.now() - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "outbox_oldest_pending_age_seconds",
            "Age of the oldest outbox row not yet sent (0 when none waits).",
            value=max(age, 0.0),
        )
