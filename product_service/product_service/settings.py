"""Settings for product_service, read from the environment (docs/docs/ARCHITECTURE.md §7).

The store is MongoDB through django-mongodb-backend: ``MONGODB_URI`` names the server
(a real mongod in production, SecantusDB locally and in tests) and the database is the
URI's own database, else ``MONGODB_DB_NAME``. With ``DJANGO_DEBUG=false`` every secret
must be set; in debug mode missing values fall back to local defaults.
"""

from pathlib import Path

from pymongo.uri_parser import parse_uri

from ecommerce_common import settings as common
from ecommerce_common.base_settings import *  # noqa: F403 - the settings every service shares
from ecommerce_common.logging import logging_config
from ecommerce_common.settings import env

BASE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BASE_DIR.parent
SERVICE_NAME = "product_service"

SECRET_KEY = common.required("DJANGO_SECRET_KEY", dev_default="dev-only-product-service-secret-key")

INSTALLED_APPS = [
    "product_service.apps.MongoAdminConfig",
    "product_service.apps.MongoAuthConfig",
    "product_service.apps.MongoContentTypesConfig",
    *SHARED_APPS,
    "products",
]

ROOT_URLCONF = "product_service.urls"
WSGI_APPLICATION = "product_service.wsgi.application"

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

# The public catalogue's read cache (products/catalogue_cache.py): answers of the public GET
# routes and list totals, for CATALOGUE_CACHE_SECONDS (0 turns it off). 30 s is the bound the
# system already has for a revoked token (VERIFY_CACHE_SECONDS). With REDIS_URL set the cache
# and its generation are the "shared" Redis cache, so a change made through any process shows
# through every worker and pod at once. Without it they are per process (no server to run):
# a change shows at once through the process that made it and elsewhere within 30 s.
CATALOGUE_CACHE_SECONDS = env.int("CATALOGUE_CACHE_SECONDS", default=30)
CACHES = {**CACHES}  # A copy: base_settings' dict is every service's
if common.redis_url():
    CATALOGUE_CACHE_ALIAS = common.SHARED_CACHE_ALIAS
else:
    CATALOGUE_CACHE_ALIAS = "catalogue"
    CACHES[CATALOGUE_CACHE_ALIAS] = {
        "BACKEND": "products.cache_backends.BoundedLocMemCache",
        "LOCATION": "catalogue",
        # Bytes of answers held per process; the entry count bounds the keys' own overhead.
        "OPTIONS": {
            "MAX_BYTES": env.int("CATALOGUE_CACHE_MAX_MB", default=32) * 1024 * 1024,
            "MAX_ENTRIES": 20_000,
        },
    }
# A catalogue cache hit is answered right after the request id and security headers, before
# routing, sessions and DRF; on the way out the cache sees every write.
MIDDLEWARE = [*MIDDLEWARE]  # A copy: base_settings' list is every service's
MIDDLEWARE.insert(
    MIDDLEWARE.index("ecommerce_common.middleware.StaticFilesMiddleware") + 1,
    "products.catalogue_cache.CatalogueCacheMiddleware",
)

STATIC_ROOT = REPO_DIR / "var" / "static" / SERVICE_NAME


INTERNAL_API_TOKENS = common.internal_api_tokens()
# Not a secret: the local address is a sensible default (the chart sets the cluster one).
USER_SERVICE_URL = env.str("USER_SERVICE_URL", default="http://127.0.0.1:8001")

REST_FRAMEWORK = common.rest_framework(
    authentication=["ecommerce_common.user_auth.UserTokenAuthentication"],
)

SPECTACULAR_SETTINGS = common.spectacular(
    title="product_service API",
    description=(
        "Catalogue, reviews and stock reservations (reserve / commit / release). The public "
        "catalogue reads (`GET /product/`, `/product/list`, `/product/{id}`, "
        "`/product/{id}/reviews`) are cached per server process for CATALOGUE_CACHE_SECONDS "
        "(30 s by default): a change shows at once through the process that made it and "
        "everywhere within that time."
    ),
)

# Reservation lifetimes accepted on POST /internal/reservations (seconds).
# The old /product/list answers a plain array: at most 1000 products and this many bytes.
PRODUCT_LIST_LEGACY_MAX_BYTES = env.int("PRODUCT_LIST_LEGACY_MAX_BYTES", default=2 * 1024 * 1024)

RESERVATION_DEFAULT_TTL_SECONDS = env.int("RESERVATION_DEFAULT_TTL_SECONDS", default=15 * 60)
RESERVATION_MAX_TTL_SECONDS = env.int("RESERVATION_MAX_TTL_SECONDS", default=24 * 60 * 60)

LOGGING = logging_config(service=SERVICE_NAME)
