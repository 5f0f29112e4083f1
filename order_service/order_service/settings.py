"""order_service settings, read from the environment (see docs/CONVENTIONS.md)."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from ecommerce_common import settings as common
from ecommerce_common.base_settings import *  # noqa: F403 - the settings every service shares
from ecommerce_common.logging import logging_config
from ecommerce_common.settings import env, required

BASE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BASE_DIR.parent
SERVICE_NAME = "order_service"

SECRET_KEY = required("DJANGO_SECRET_KEY", dev_default="dev-only-order-service-secret-key")

INSTALLED_APPS = [*ADMIN_APPS, *SHARED_APPS, "orders", "payments"]

ROOT_URLCONF = "order_service.urls"
WSGI_APPLICATION = "order_service.wsgi.application"

DATABASES = {
    "default": common.database(dev_default=f"sqlite:///{BASE_DIR.parent}/var/orders.sqlite3")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


STATIC_ROOT = REPO_DIR / "var" / "static" / SERVICE_NAME

REST_FRAMEWORK = common.rest_framework(
    authentication=["ecommerce_common.user_auth.UserTokenAuthentication"]
)
SPECTACULAR_SETTINGS = common.spectacular(
    title="order_service API",
    description="Orders, the payment step and the order state machine.",
)

LOGGING = logging_config(service=SERVICE_NAME)
# Read when /metrics is scraped (ecommerce_common.metrics).
METRICS_COLLECTORS = ["orders.metrics.OutboxCollector"]


# --- other services -----------------------------------------------------------------------------
INTERNAL_API_TOKENS = common.internal_api_tokens()
USER_SERVICE_URL = required("USER_SERVICE_URL", dev_default="http://127.0.0.1:8001")
PRODUCT_SERVICE_URL = required("PRODUCT_SERVICE_URL", dev_default="http://127.0.0.1:8002")
PRODUCT_SERVICE_TIMEOUT_SECONDS = env.float("PRODUCT_SERVICE_TIMEOUT_SECONDS", default=5.0)

# --- orders -------------------------------------------------------------------------------------
# An unpaid order expires after the payment window; the stock reservation lives a grace period
# longer, so the order always expires (and releases its stock) before the reservation lapses.
ORDER_PAYMENT_WINDOW_SECONDS = env.int("ORDER_PAYMENT_WINDOW_SECONDS", default=15 * 60)
ORDER_RESERVATION_GRACE_SECONDS = env.int(
    "ORDER_RESERVATION_GRACE_SECONDS", default=env.int("RESERVATION_GRACE_SECONDS", default=5 * 60)
)
# Caps on the stock one account can hold unpaid (409 line_quantity_limit, too_many_open_orders).
ORDER_MAX_QUANTITY_PER_LINE = env.int("ORDER_MAX_QUANTITY_PER_LINE", default=100)
ORDER_MAX_OPEN_PER_USER = env.int("ORDER_MAX_OPEN_PER_USER", default=5)
ORDER_MAX_LINES = env.int("ORDER_MAX_LINES", default=100)
# A request holding an Idempotency-Key longer than this is presumed dead; its key is taken over.
IDEMPOTENCY_CLAIM_STALE_SECONDS = env.int("IDEMPOTENCY_CLAIM_STALE_SECONDS", default=60)

# --- payments -----------------------------------------------------------------------------------
SIMULATED_GATEWAY = "payments.gateway.SimulatedGateway"
PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default=SIMULATED_GATEWAY)
# The simulator approves anything paid with tok_visa: with debug off it runs only when allowed
# explicitly (the local run, the tests, the bench, a demo install of the chart).
PAYMENT_SIMULATOR_ALLOWED = env.bool("PAYMENT_SIMULATOR_ALLOWED", default=DEBUG)
if PAYMENT_GATEWAY == SIMULATED_GATEWAY and not PAYMENT_SIMULATOR_ALLOWED:
    raise ImproperlyConfigured(
        "PAYMENT_GATEWAY is the simulated gateway, which takes no real money: set PAYMENT_GATEWAY "
        "to a real provider, or PAYMENT_SIMULATOR_ALLOWED=true for a demo."
    )
# What the simulated gateway does with a valid token: "normal", "fail" or "timeout" (tests).
PAYMENT_SIMULATOR_MODE = env.str("PAYMENT_SIMULATOR_MODE", default="normal")
PAYMENT_SIMULATOR_DELAY_SECONDS = env.float("PAYMENT_SIMULATOR_DELAY_SECONDS", default=0.0)
# A payment attempt still "processing" after this long is treated as abandoned and may be retried
# (safe: the gateway deduplicates charges by the order id).
PAYMENT_ATTEMPT_STALE_SECONDS = env.int("PAYMENT_ATTEMPT_STALE_SECONDS", default=60)

# --- Celery (publishing only: order_service sends events, integration_service consumes) ---------
# A broker outage must not stop sales: the outbox holds the events, so /ready does not depend on
# the broker; it reports it, and the outbox backlog.
READY_REQUIRES_BROKER = False
READY_DETAILS = "orders.health.outbox_backlog"
CELERY_BROKER_URL, _broker_options = common.celery_broker()
# A request must never hang on a down broker: connect fast, retry once, and leave the outbox row
# pending for the sweep.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **_broker_options,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_BROKER_CONNECTION_RETRY = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = False
CELERY_BROKER_CONNECTION_MAX_RETRIES = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
OUTBOX_RELAY_BATCH_SIZE = env.int("OUTBOX_RELAY_BATCH_SIZE", default=100)
OUTBOX_PUBLISH_TIMEOUT_SECONDS = env.float("OUTBOX_PUBLISH_TIMEOUT_SECONDS", default=5.0)
# An outbox row claimed this long ago and still not sent belongs to a relay that died; the sweep
# publishes it again. Far longer than a publish can take (see orders/outbox.py).
OUTBOX_CLAIM_LEASE_SECONDS = env.int("OUTBOX_CLAIM_LEASE_SECONDS", default=60)
