"""The Celery app: ``celery -A integration_service worker -Q integration`` and ``... beat``.

Configuration comes from Django settings (``CELERY_*``). The consumer step below
touches a heartbeat file while the worker is connected to the broker and its
event loop runs; ``python -m events.liveness`` checks it for Kubernetes.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from celery import Celery, bootsteps, signals
from celery.beat import PersistentScheduler

from ecommerce_common.celery import install_request_id_propagation
from ecommerce_common.events import DEAD_LETTER_QUEUE, integration_queues

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_service.settings")
logger = logging.getLogger(__name__)

app = Celery("integration_service")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
install_request_id_propagation()


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Touch ``WORKER_HEARTBEAT_FILE`` every few seconds from the consumer's own loop.

    A consumer step runs only while the consumer is connected, and the timer
    fires from the worker's event loop, so a stale file means a worker that is
    blocked or cut off from RabbitMQ: exactly what a liveness probe should catch.
    """

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.timer_ref = None

    def start(self, parent: Any) -> None:
        from django.conf import settings
        from events.liveness import touch

        path = settings.WORKER_HEARTBEAT_FILE
        touch(path)
        self.timer_ref = parent.timer.call_repeatedly(
            settings.WORKER_HEARTBEAT_INTERVAL_SECONDS, touch, (path,), priority=10
        )

    def stop(self, parent: Any) -> None:
        if self.timer_ref is not None:
            self.timer_ref.cancel()
            self.timer_ref = None

    def shutdown(self, parent: Any) -> None:
        self.stop(parent)


class DeclareDeadLetterQueue(bootsteps.StartStopStep):
    """Declare the dead-letter exchange and queue on every (re)connection.

    The worker consumes only the work queue, but its rejections must find
    ``integration.dlx`` → ``integration.dead`` in place, or RabbitMQ would drop them.
    """

    requires = {"celery.worker.consumer.connection:Connection"}

    def start(self, parent: Any) -> None:
        channel = parent.connection.default_channel
        for queue in integration_queues():
            queue(channel).declare()


app.steps["consumer"].add(DeclareDeadLetterQueue)
app.steps["consumer"].add(WorkerHeartbeat)


@signals.celeryd_after_setup.connect
def _select_queues(instance: Any = None, **_: Any) -> None:
    """Whatever its ``-Q``, a worker runs the periodic ticks and leaves the dead letters alone."""
    from django.conf import settings

    queues = instance.app.amqp.queues
    if settings.PERIODIC_QUEUE not in queues.consume_from:
        queues.select_add(settings.PERIODIC_QUEUE)
    if DEAD_LETTER_QUEUE in queues.consume_from:
        queues.deselect(DEAD_LETTER_QUEUE)


@signals.celeryd_init.connect
def _metrics_start_clean(**_: Any) -> None:
    """Before the task processes start: drop the metric files of an earlier run."""
    from ecommerce_common.metrics_files import clean_multiprocess_dir, multiprocess_dir

    folder = multiprocess_dir()
    if folder:
        clean_multiprocess_dir(folder)
    else:
        logger.warning(
            "PROMETHEUS_MULTIPROC_DIR is not set: the worker's metrics leave out its task processes"
        )


@signals.worker_ready.connect
def _metrics_serve(**_: Any) -> None:
    """Serve /metrics from the main process on WORKER_METRICS_PORT (0: not served)."""
    from django.conf import settings
    from events.metrics import DeadLetterCollector
    from prometheus_client import start_http_server

    from ecommerce_common.metrics import registry

    if not settings.WORKER_METRICS_PORT:
        return
    try:
        start_http_server(
            settings.WORKER_METRICS_PORT,
            addr=settings.WORKER_METRICS_HOST,
            registry=registry([DeadLetterCollector()]),
        )
    except OSError as exc:
        # E.g. a second worker on one host, or a killed one's port not yet free: the worker
        # still works, without its metrics.
        logger.warning(
            "worker metrics not served",
            extra={"port": settings.WORKER_METRICS_PORT, "error": str(exc)},
        )


@signals.task_prerun.connect
@signals.task_postrun.connect
def _close_old_connections(**_: Any) -> None:
    """Drop connections that broke (e.g. PostgreSQL restarted) or outlived CONN_MAX_AGE.

    Celery reuses connections across tasks (``CELERY_DB_REUSE_MAX``) but never checks
    them; this is what Django does around every request.
    """
    from django.db import close_old_connections

    close_old_connections()


class BeatScheduler(PersistentScheduler):
    """The default persistent scheduler, creating the folder of its schedule file first.

    The folder is ``CELERY_BEAT_DIR``: a writable volume when the root filesystem is read-only.
    """

    def setup_schedule(self) -> None:
        Path(self.schedule_filename).parent.mkdir(parents=True, exist_ok=True)
        super().setup_schedule()
