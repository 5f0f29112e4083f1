"""Settings for product_service, read from the environment (see ARCHITECTURE.md §7).

The store is MongoDB through django-mongodb-backend: ``MONGODB_URI`` names the server
(a real mongod in production, SecantusDB locally and in tests) and the database is the
URI's own database, else ``MONGODB_DB_NAME``. With ``DJANGO_DEBUG=false`` every secret
must be set; in debug mode missing values fall back to local defaults.
"""

from pathlib import Path

from pymongo.uri_parser import parse_uri

from ecommerce_common import settings as common
from ecommerce_common.logging import logging_config
from ecommerce_common.settings import env

BASE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BASE_DIR.parent
SERVICE_NAME = "product_service"

DEBUG = common.DEBUG
SECRET_KEY = common.required("DJANGO_SECRET_KEY", dev_default="dev-only-product-service-secret-key")
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "product_service.apps.MongoAdminConfig",
    "product_service.apps.MongoAuthConfig",
    "product_service.apps.MongoContentTypesConfig",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "ecommerce_common",
    "products",
]

MIDDLEWARE = common.MIDDLEWARE
ROOT_URLCONF = "product_service.urls"
WSGI_APPLICATION = "product_service.wsgi.application"
TEMPLATES = common.TEMPLATES

MONGODB_URI = common.required("MONGODB_URI", dev_default="mongodb://127.0.0.1:27017")
DATABASES = {
    "default": {
        "ENGINE": "django_mongodb_backend",
        # The connection string goes in HOST (parse_uri() is deprecated in 5.2.x).
        "HOST": MONGODB_URI,
        "NAME": parse_uri(MONGODB_URI).get("database")
        or env.str("MONGODB_DB_NAME", default="ecommerce_products"),
        "OPTIONS": {
            "connectTimeoutMS": env.int("MONGODB_CONNECT_TIMEOUT_MS", default=5000),
            "serverSelectionTimeoutMS": env.int(
                "MONGODB_SERVER_SELECTION_TIMEOUT_MS", default=5000
            ),
        },
    }
}
DEFAULT_AUTO_FIELD = "django_mongodb_backend.fields.ObjectIdAutoField"
MIGRATION_MODULES = {
    "admin": "product_service.contrib.admin.migrations",
    "auth": "product_service.contrib.auth.migrations",
    "contenttypes": "product_service.contrib.contenttypes.migrations",
}

# Only the verify client's positive answers (≤ 30 s, per process) live in the cache.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = REPO_DIR / "var" / "static" / SERVICE_NAME

# Public routes have no trailing slash; `/product/` (the list) is declared with its slash.
APPEND_SLASH = False
MAX_REQUEST_BODY_BYTES = common.MAX_REQUEST_BODY_BYTES

SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
# Set once the ingress serves this host over TLS only (HSTS cannot be taken back quickly).
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
# TLS and the http→https redirect belong to the ingress; inside the cluster the services,
# probes and /internal calls speak plain http, which a redirect here would break.
SILENCED_SYSTEM_CHECKS = ["security.W008"]

INTERNAL_API_TOKENS = common.internal_api_tokens()
# Not a secret: the local address is a sensible default (the chart sets the cluster one).
USER_SERVICE_URL = env.str("USER_SERVICE_URL", default="http://127.0.0.1:8001")

REST_FRAMEWORK = common.rest_framework(
    authentication=["ecommerce_common.user_auth.UserTokenAuthentication"],
)

SPECTACULAR_SETTINGS = common.spectacular(
    title="product_service API",
    description="Catalogue, reviews and stock reservations (reserve / commit / release).",
)

# Reservation lifetimes accepted on POST /internal/reservations (seconds).
RESERVATION_DEFAULT_TTL_SECONDS = env.int("RESERVATION_DEFAULT_TTL_SECONDS", default=15 * 60)
RESERVATION_MAX_TTL_SECONDS = env.int("RESERVATION_MAX_TTL_SECONDS", default=24 * 60 * 60)
# How long a product keeps the record of a sale that a late release could still return.
# Every sale kept makes the product document bigger (and each stock update slower); a release
# of a sale comes seconds after it (a cancellation racing the commit) or from a dead-letter replay.
STOCK_SALES_LEDGER_RETENTION_HOURS = env.int("STOCK_SALES_LEDGER_RETENTION_HOURS", default=6)

LOGGING = logging_config(
    service=SERVICE_NAME,
    level=env.str("LOG_LEVEL", default="INFO"),
    fmt=env.str("LOG_FORMAT", default="json"),
)
