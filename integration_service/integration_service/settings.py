"""Settings of integration_service, read from the environment (docs/ARCHITECTURE.md §7).

The web part only serves health, readiness and the admin; the real work is the
Celery worker (``integration_service.celery``), configured here under ``CELERY_*``.
"""

from __future__ import annotations

import os
from pathlib import Path

from kombu import Exchange, Queue

from ecommerce_common import settings as common
from ecommerce_common.base_settings import *  # noqa: F403 - the settings every service shares
from ecommerce_common.events import EXCHANGE, QUEUE, integration_queues
from ecommerce_common.logging import logging_config
from ecommerce_common.settings import env, required

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
if common.DEBUG:
    VAR_DIR.mkdir(parents=True, exist_ok=True)

SERVICE_NAME = "integration_service"
SECRET_KEY = required("DJANGO_SECRET_KEY", dev_default="dev-only-integration-service-secret-key")

INSTALLED_APPS = [*ADMIN_APPS, *SHARED_APPS, "events"]

ROOT_URLCONF = "integration_service.urls"
WSGI_APPLICATION = "integration_service.wsgi.application"

DATABASES = {"default": common.database(dev_default=f"sqlite:///{VAR_DIR / 'integration.sqlite3'}")}
_SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
if _SQLITE:
    # Local mode: an event is handled inside a transaction; take the write lock up front so
    # two of them queue up instead of deadlocking on SQLite's lock upgrade.
    DATABASES["default"].setdefault("OPTIONS", {}).update(transaction_mode="IMMEDIATE", timeout=30)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))

CSRF_COOKIE_HTTPONLY = True

# The web part has no public API of its own; DRF is here for the shared schema views.
REST_FRAMEWORK = common.rest_framework(
    authentication=["ecommerce_common.internal_auth.InternalTokenAuthentication"]
)
SPECTACULAR_SETTINGS = common.spectacular(
    title="integration_service",
    description="Health, readiness and admin of the order-event worker (no public API).",
)

LOGGING = logging_config(service=SERVICE_NAME)
# Celery's own lines per task received and per task done are not written: the worker's line
# per event delivery (events.tasks) and the periodic tasks' own say what they did, and its
# warnings and errors still show.
LOGGING["loggers"].update(
    {name: {"level": "WARNING"} for name in ("celery.app.trace", "celery.worker.strategy")}
)

# --- the services this worker calls --------------------------------------------------------------

INTERNAL_API_TOKENS = common.internal_api_tokens()
PRODUCT_SERVICE_URL = required("PRODUCT_SERVICE_URL", dev_default="http://127.0.0.1:8002")
ORDER_SERVICE_URL = required("ORDER_SERVICE_URL", dev_default="http://127.0.0.1:8003")
SERVICE_CONNECT_TIMEOUT = env.float("SERVICE_CONNECT_TIMEOUT", default=2.0)
SERVICE_READ_TIMEOUT = env.float("SERVICE_READ_TIMEOUT", default=10.0)
# Quick in-call retries of the HTTP client; the task's own retries (below) do the long backoff.
SERVICE_HTTP_RETRIES = env.int("SERVICE_HTTP_RETRIES", default=1)

# --- Celery (worker and beat) --------------------------------------------------------------------

CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = common.celery_broker()
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Periodic ticks travel apart from order events: they expire (Celery gives them a message TTL),
# and an expired tick must vanish, not be dead-lettered beside the events. celery.py makes
# every worker consume this queue, whatever its -Q.
PERIODIC_QUEUE = "integration.periodic"
CELERY_TASK_QUEUES = [
    *integration_queues(),
    Queue(
        PERIODIC_QUEUE,
        Exchange(PERIODIC_QUEUE, type="direct", durable=True),
        routing_key=PERIODIC_QUEUE,
        durable=True,
    ),
]
CELERY_TASK_DEFAULT_QUEUE = QUEUE
CELERY_TASK_DEFAULT_EXCHANGE = EXCHANGE
CELERY_TASK_DEFAULT_ROUTING_KEY = QUEUE
_PERIODIC_ROUTE = {
    "queue": PERIODIC_QUEUE,
    "exchange": PERIODIC_QUEUE,
    "routing_key": PERIODIC_QUEUE,
}
CELERY_TASK_ROUTES = {
    "integration.relay_outbox": _PERIODIC_ROUTE,
    "integration.expire_orders": _PERIODIC_ROUTE,
    "integration.expire_reservations": _PERIODIC_ROUTE,
    "integration.repair_stock": _PERIODIC_ROUTE,
    "integration.*": {"queue": QUEUE, "exchange": EXCHANGE, "routing_key": QUEUE},
}
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_EVENT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A task that fails unexpectedly is rejected (so dead-lettered), never acknowledged and lost.
CELERY_TASK_ACKS_ON_FAILURE_OR_TIMEOUT = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The worker mostly waits on HTTP calls: several processes per pod (one on SQLite, local mode).
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=1 if _SQLITE else 4)
# Keep database connections across tasks instead of a new PostgreSQL backend per event;
# celery.py closes broken or CONN_MAX_AGE-old ones around every task.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Task events (received, started, succeeded...) are for live monitors such as Flower, which
# turns them on with its ``enable_events`` broadcast while it runs (RabbitMQ only: the
# filesystem transport of local mode has no fanout to carry them). Off until then: four
# messages per event cost the worker and the broker 1.5-2 ms of CPU per order
# (bench/FINDINGS.md). True sends them from the start.
CELERY_WORKER_SEND_TASK_EVENTS = env.bool("CELERY_WORKER_SEND_TASK_EVENTS", default=False)
# Above the worst case of one event: three calls, each with its in-call retry, at the read timeout.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=150)

# Retries of an order event on transient failures: exponential backoff with full jitter,
# countdown = random(0, min(max, factor * 2**retry)); after the last one it is dead-lettered.
EVENT_MAX_RETRIES = env.int("EVENT_MAX_RETRIES", default=8)
EVENT_RETRY_BACKOFF_SECONDS = env.float("EVENT_RETRY_BACKOFF_SECONDS", default=2.0)
EVENT_RETRY_BACKOFF_MAX_SECONDS = env.float("EVENT_RETRY_BACKOFF_MAX_SECONDS", default=600.0)
EVENT_RETRY_JITTER = env.bool("EVENT_RETRY_JITTER", default=True)

# Beat keeps its schedule state in a writable folder (the root filesystem may be read-only).
CELERY_BEAT_DIR = Path(env.str("CELERY_BEAT_DIR", default=str(VAR_DIR)))
CELERY_BEAT_SCHEDULE_FILENAME = str(CELERY_BEAT_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULER = "integration_service.celery:BeatScheduler"
RELAY_OUTBOX_INTERVAL_SECONDS = env.float("RELAY_OUTBOX_INTERVAL_SECONDS", default=5.0)
EXPIRE_ORDERS_INTERVAL_SECONDS = env.float("EXPIRE_ORDERS_INTERVAL_SECONDS", default=30.0)
EXPIRE_RESERVATIONS_INTERVAL_SECONDS = env.float(
    "EXPIRE_RESERVATIONS_INTERVAL_SECONDS", default=30.0
)
# The stock audit reads every product and reservation: seldom, it mends only what crashes left.
REPAIR_STOCK_INTERVAL_SECONDS = env.float("REPAIR_STOCK_INTERVAL_SECONDS", default=600.0)
# A periodic run that waited longer than its interval is dropped: the next tick replaces it.
CELERY_BEAT_SCHEDULE = {
    "relay-outbox": {
        "task": "integration.relay_outbox",
        "schedule": RELAY_OUTBOX_INTERVAL_SECONDS,
        "options": {"expires": RELAY_OUTBOX_INTERVAL_SECONDS},
    },
    "expire-orders": {
        "task": "integration.expire_orders",
        "schedule": EXPIRE_ORDERS_INTERVAL_SECONDS,
        "options": {"expires": EXPIRE_ORDERS_INTERVAL_SECONDS},
    },
    "expire-reservations": {
        "task": "integration.expire_reservations",
        "schedule": EXPIRE_RESERVATIONS_INTERVAL_SECONDS,
        "options": {"expires": EXPIRE_RESERVATIONS_INTERVAL_SECONDS},
    },
    "repair-stock": {
        "task": "integration.repair_stock",
        "schedule": REPAIR_STOCK_INTERVAL_SECONDS,
        "options": {"expires": REPAIR_STOCK_INTERVAL_SECONDS},
    },
}

# The worker's main process serves /metrics here (0: not at all); gunicorn's METRICS_PORT is
# the web part's. Both are internal: the ingress never routes them.
WORKER_METRICS_PORT = env.int("WORKER_METRICS_PORT", default=0)
WORKER_METRICS_HOST = env.str("WORKER_METRICS_HOST", default="0.0.0.0")  # noqa: S104

# Worker liveness: the consumer touches this file while it is connected and its loop runs;
# `python -m events.liveness` fails when the file is older than WORKER_HEARTBEAT_MAX_AGE.
WORKER_HEARTBEAT_FILE = env.str(
    "WORKER_HEARTBEAT_FILE", default=os.path.join(VAR_DIR, "worker-heartbeat")
)
WORKER_HEARTBEAT_INTERVAL_SECONDS = env.float("WORKER_HEARTBEAT_INTERVAL_SECONDS", default=10.0)
