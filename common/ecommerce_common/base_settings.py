"""The Django settings every service shares.

A service's ``settings.py`` starts with ``from ecommerce_common.base_settings import *``
and then adds its own (databases, apps, authentication, ...), so security headers,
cookies, hosts and middleware are the same everywhere.
"""

from ecommerce_common.settings import (
    DEBUG,
    MAX_REQUEST_BODY_BYTES,
    METRICS_PORT,
    MIDDLEWARE,
    TEMPLATES,
    env,
)

__all__ = [
    "ALLOWED_HOSTS",
    "APPEND_SLASH",
    "CSRF_COOKIE_SECURE",
    "CSRF_TRUSTED_ORIGINS",
    "DEBUG",
    "LANGUAGE_CODE",
    "MAX_REQUEST_BODY_BYTES",
    "METRICS_PORT",
    "MIDDLEWARE",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_HSTS_SECONDS",
    "SECURE_PROXY_SSL_HEADER",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SECURE",
    "SILENCED_SYSTEM_CHECKS",
    "STATIC_URL",
    "TEMPLATES",
    "TIME_ZONE",
    "USE_I18N",
    "USE_TZ",
    "X_FRAME_OPTIONS",
]

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"

# The old system's paths have no trailing slash; a redirect would lose POST bodies.
APPEND_SLASH = False

SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
# Set once the ingress serves the host over TLS only (HSTS cannot be taken back quickly).
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
# TLS and the http→https redirect belong to the ingress; inside the cluster the services,
# probes and /internal calls speak plain http, which a redirect here would break.
SILENCED_SYSTEM_CHECKS = ["security.W008"]
