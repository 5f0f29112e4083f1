"""Settings helpers: read configuration from the environment.

In debug (local) mode a missing value falls back to a development default;
in a deployed configuration (``DJANGO_DEBUG`` false) a missing secret is an
error, so no secret ever has a usable default in production.
"""

from __future__ import annotations

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()

DEBUG: bool = env.bool("DJANGO_DEBUG", default=False)


def required(name: str, *, dev_default: str | None = None) -> str:
    """Return ``name`` from the environment; only debug mode may fall back to ``dev_default``."""
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG and dev_default is not None:
        return dev_default
    raise ImproperlyConfigured(f"Set the environment variable {name}.")


def internal_api_tokens() -> list[str]:
    """The shared secrets accepted on /internal routes (comma-separated, for rotation)."""
    raw = required("INTERNAL_API_TOKENS", dev_default="dev-internal-token")
    tokens = [token.strip() for token in raw.split(",") if token.strip()]
    if not tokens:
        raise ImproperlyConfigured("INTERNAL_API_TOKENS holds no token.")
    return tokens


def database(*, dev_default: str) -> dict:
    """The ``default`` database from ``DATABASE_URL`` (SQLite only as a dev default)."""
    config = env.db_url_config(required("DATABASE_URL", dev_default=dev_default))
    config.setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    config["CONN_HEALTH_CHECKS"] = True
    if config["ENGINE"] == "django.db.backends.postgresql":
        options = config.setdefault("OPTIONS", {})
        options["connect_timeout"] = 5
        # Bind parameters on the server, so psycopg prepares a statement the connection runs
        # repeatedly (its prepare_threshold): PostgreSQL then parses and plans it once per
        # connection, not once per execution (bench/FINDINGS.md). Behind a pooler in transaction
        # mode without prepared-statement support (PgBouncer < 1.21), turn it off in the URL:
        # DATABASE_URL=postgres://…?server_side_binding=false.
        options.setdefault("server_side_binding", True)
    return config


_PERIODS = {"s": 1, "m": 60, "h": 60 * 60, "d": 24 * 60 * 60}

# scope: (per-user default, per-IP default). One IP may be a whole office behind NAT.
WRITE_SCOPES: dict[str, tuple[str, str]] = {
    "order_create": ("30/minute", "300/minute"),
    "order_pay": ("30/minute", "300/minute"),
    "product_create": ("30/minute", "300/minute"),
    "review_create": ("30/minute", "300/minute"),
}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"30/minute"`` → ``(30, 60)``."""
    count, period = rate.split("/")
    return int(count), _PERIODS[period.strip()[0]]


def _write_rate_variable(scope: str, kind: str) -> str:
    return f"THROTTLE_{scope.upper()}_{kind.upper()}_RATE"


def write_rates_all(rate: str) -> dict[str, str]:
    """The environment that sets every write rate limit to ``rate``: for the cross-service tests
    and the benchmark, whose users all write from one address."""
    return {
        _write_rate_variable(scope, kind): rate for scope in WRITE_SCOPES for kind in ("user", "ip")
    }


def write_throttle_rates() -> dict[str, str]:
    """``DEFAULT_THROTTLE_RATES`` entries ``<scope>_user`` and ``<scope>_ip`` from
    ``THROTTLE_<SCOPE>_USER_RATE`` / ``THROTTLE_<SCOPE>_IP_RATE`` (empty: no limit)."""
    rates: dict[str, str] = {}
    for scope, (per_user, per_ip) in WRITE_SCOPES.items():
        for kind, default in (("user", per_user), ("ip", per_ip)):
            name = _write_rate_variable(scope, kind)
            rate = env.str(name, default=default)
            if not rate:
                continue
            try:
                parse_rate(rate)
            except (ValueError, KeyError, IndexError) as exc:
                raise ImproperlyConfigured(f"{name} must look like 30/minute.") from exc
            rates[f"{scope}_{kind}"] = rate
    return rates


def rest_framework(*, authentication: list[str], throttle_rates: dict | None = None) -> dict:
    """DRF settings every service shares: JSON only, one error format, page-number lists,
    the write rate limits (``ecommerce_common.throttling``) and the trusted proxy count."""
    return {
        "DEFAULT_AUTHENTICATION_CLASSES": authentication,
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
        + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
        "DEFAULT_PARSER_CLASSES": ["ecommerce_common.parsers.JSONParser"],
        "DEFAULT_PAGINATION_CLASS": "ecommerce_common.pagination.PageNumberPagination",
        "PAGE_SIZE": 20,
        "EXCEPTION_HANDLER": "ecommerce_common.errors.exception_handler",
        "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
        "DEFAULT_THROTTLE_RATES": {**write_throttle_rates(), **(throttle_rates or {})},
        # Proxies in front of the service (the ingress) whose X-Forwarded-For names the
        # client; 0: the peer address is the client, and X-Forwarded-For is ignored.
        "NUM_PROXIES": env.int("TRUSTED_PROXY_COUNT", default=0),
        "UNAUTHENTICATED_USER": None,
        # Money travels as JSON numbers, as the old system's clients expect.
        "COERCE_DECIMAL_TO_STRING": False,
    }


def spectacular(*, title: str, description: str) -> dict:
    return {
        "TITLE": title,
        "DESCRIPTION": description,
        "VERSION": "1.0.0",
        "SERVE_INCLUDE_SCHEMA": False,
        "COMPONENT_SPLIT_REQUEST": True,
        # The schema and its UIs are public documents: they read no credentials, so a wrong
        # internal token or a stale user token (a browser's old cookie) cannot refuse them, and
        # showing them never waits on user_service's /internal/verify.
        "SERVE_AUTHENTICATION": [],
    }


MIDDLEWARE: list[str] = [
    "ecommerce_common.metrics.MetricsMiddleware",
    "ecommerce_common.middleware.RequestIdMiddleware",
    "ecommerce_common.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "ecommerce_common.middleware.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES: list[dict] = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# Largest request body accepted before it is read (413 above it).
MAX_REQUEST_BODY_BYTES: int = env.int("MAX_REQUEST_BODY_BYTES", default=1024 * 1024)

# The port gunicorn binds for /metrics beside the service's own (ecommerce_common.metrics);
# None: /metrics is served on the service's port.
METRICS_PORT: int | None = env.int("METRICS_PORT", default=0) or None


# Bumped when the shape of what the services keep in the shared cache changes, so a new
# release never reads an older one's entries from a Redis both use.
CACHE_VERSION = 1
SHARED_CACHE_ALIAS = "shared"


def redis_url() -> str:
    """``REDIS_URL``, the Redis the services share (empty: none; every cache per process)."""
    return env.str("REDIS_URL", default="")


def caches() -> dict:
    """``CACHES`` of every service (``base_settings``): ``default`` (per process) and ``shared``.

    ``shared`` holds what every worker process and pod of a service should see alike (the
    catalogue read cache and its generation, the verify cache, rate-limit counters). With
    ``REDIS_URL`` set it is that Redis, through ``ecommerce_common.cache.RedisCache``
    (Django's backend; an unreachable Redis is a miss with a WARNING, never an error).
    Without it, it is a per-process ``LocMemCache``, as every cache was before. Redis keys are
    ``CACHE_KEY_PREFIX:<SERVICE_NAME>:<version>:<key>`` (the chart sets the release name as the
    prefix, tests a name per run), so services, releases and test runs can share one server.
    """
    local = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if not redis_url():
        return {"default": local, SHARED_CACHE_ALIAS: {**local, "LOCATION": "shared"}}
    timeout = env.float("REDIS_TIMEOUT_SECONDS", default=0.5)
    return {
        "default": local,
        SHARED_CACHE_ALIAS: {
            "BACKEND": "ecommerce_common.cache.RedisCache",
            "LOCATION": redis_url(),
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="ecommerce"),
            "KEY_FUNCTION": "ecommerce_common.cache.make_key",
            "VERSION": CACHE_VERSION,
            "OPTIONS": {
                "socket_connect_timeout": timeout,
                "socket_timeout": timeout,
                "health_check_interval": 30,
            },
        },
    }


def celery_broker() -> tuple[str, dict]:
    """``CELERY_BROKER_URL`` and its transport options.

    Without a URL (debug only) the broker is kombu's filesystem transport in
    ``CELERY_FS_BROKER_DIR``, so the local system runs with nothing but Python.
    On AMQP, publisher confirms are on: a publish returns only once RabbitMQ has it.
    """
    url = required("CELERY_BROKER_URL", dev_default="filesystem://")
    if url.startswith("filesystem"):
        import os

        folder = os.path.abspath(env.str("CELERY_FS_BROKER_DIR", default="var/broker"))
        control = os.path.join(folder, "control")
        os.makedirs(control, exist_ok=True)
        return url, {"data_folder_in": folder, "data_folder_out": folder, "control_folder": control}
    return url, {"confirm_publish": True, "max_retries": 3}
