"""The Django settings every service shares.

A service's ``settings.py`` starts with ``from ecommerce_common.base_settings import *``
and then adds its own (databases, apps, authentication, ...), so security headers,
cookies, hosts and middleware are the same everywhere.
"""

import os

from ecommerce_common.settings import (
    DEBUG,
    MAX_REQUEST_BODY_BYTES,
    METRICS_PORT,
    MIDDLEWARE,
    TEMPLATES,
    caches,
    env,
)

__all__ = [
    "ADMIN_APPS",
    "ALLOWED_HOSTS",
    "APPEND_SLASH",
    "CACHES",
    "CSRF_COOKIE_NAME",
    "CSRF_COOKIE_SECURE",
    "CSRF_TRUSTED_ORIGINS",
    "DEBUG",
    "LANGUAGE_CODE",
    "MAX_REQUEST_BODY_BYTES",
    "METRICS_PORT",
    "MIDDLEWARE",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_COOKIES",
    "SECURE_HSTS_SECONDS",
    "SECURE_PROXY_SSL_HEADER",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_SECURE",
    "SHARED_APPS",
    "SILENCED_SYSTEM_CHECKS",
    "STATIC_URL",
    "TEMPLATES",
    "TIME_ZONE",
    "TRUSTED_ORIGINS",
    "USE_I18N",
    "USE_TZ",
    "X_FRAME_OPTIONS",
]

# The apps every service installs, cookiecutter-django style: a service's INSTALLED_APPS is
# ADMIN_APPS (product_service swaps in its MongoDB variants), SHARED_APPS, then its own.
ADMIN_APPS = ["django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes"]
SHARED_APPS = [
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "ecommerce_common",
]

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Browser origins (scheme://host[:port]) besides the API's own whose pages may write with the
# userAuthToken cookie (ecommerce_common.user_auth); any other Origin or Referer is refused.
TRUSTED_ORIGINS = env.list("TRUSTED_ORIGINS", default=CSRF_TRUSTED_ORIGINS)

# "default" is each process's own; "shared" holds what every worker process and pod must see
# alike (catalogue cache, verify cache, rate limits): Redis with REDIS_URL, else per process.
CACHES = caches()

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"

# The old system's paths have no trailing slash; a redirect would lose POST bodies.
APPEND_SLASH = False

# Locally every admin site is on 127.0.0.1 and cookies do not tell ports apart: named per
# service, logging in to one admin keeps the session (and CSRF token) of the others.
_SERVICE = os.environ.get("DJANGO_SETTINGS_MODULE", "ecommerce").split(".")[0]
SESSION_COOKIE_NAME = f"{_SERVICE}_sessionid"
CSRF_COOKIE_NAME = f"{_SERVICE}_csrftoken"
# Cookies are sent over HTTPS only; false only where the API is served over plain HTTP (a laptop,
# a minikube without TLS). user_service's userAuthToken follows it (AUTH_COOKIE_SECURE).
SECURE_COOKIES = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
# Set once the ingress serves the host over TLS only (HSTS cannot be taken back quickly).
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
# TLS and the http→https redirect belong to the ingress; inside the cluster the services,
# probes and /internal calls speak plain http, which a redirect here would break.
SILENCED_SYSTEM_CHECKS = ["security.W008"]
