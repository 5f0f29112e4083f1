"""The worker's metrics: order events handled (by type and outcome, with their duration) and
the depth of the dead-letter queue, read when scraped.

The worker's main process serves them on ``WORKER_METRICS_PORT`` (``integration_service.celery``),
adding up the task processes' values (``ecommerce_common.metrics``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

from ecommerce_common.contracts import ORDER_EVENT_TYPES
from ecommerce_common.events import DEAD_LETTER_QUEUE

logger = logging.getLogger(__name__)

KNOWN_TYPES = frozenset(ORDER_EVENT_TYPES)

EVENTS_HANDLED = Counter(
    "order_events_handled_total",
    "Deliveries of order events the worker finished, by event type and outcome.",
    ["type", "outcome"],
)
EVENT_DURATION = Histogram(
    "order_event_handling_duration_seconds",
    "Time the worker took over one delivery of an order event, by type and outcome.",
    ["type", "outcome"],
)


def event_handled_record(*, event_type: object, outcome: str, seconds: float) -> None:
    """Count one delivery; an unknown type is counted as ``other`` (labels stay few)."""
    label = event_type if event_type in KNOWN_TYPES else "other"
    EVENTS_HANDLED.labels(label, outcome).inc()
    EVENT_DURATION.labels(label, outcome).observe(seconds)


class DeadLetterCollector:
    """``dead_letter_queue_depth``: the dead letters waiting for a replay, asked at scrape time
    from where they are kept (RabbitMQ's ``integration.dead``, or the event log's dead rows on a
    broker without dead-lettering). No sample when that cannot be read."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from events.dead_letters import dead_letter_source

        gauge = GaugeMetricFamily(
            "dead_letter_queue_depth",
            "Order events waiting in the dead letters for a replay.",
            labels=["queue"],
        )
        try:
            gauge.add_metric([DEAD_LETTER_QUEUE], dead_letter_source().depth())
        except Exception as exc:
            logger.warning("dead-letter depth unavailable", extra={"error": str(exc)})
        yield gauge
