"""Minimal Django project for testing common/ on its own."""

from ecommerce_common import settings as common

SECRET_KEY = "common-tests"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "tests.urls"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.contenttypes",
    "rest_framework",
    "drf_spectacular",
    "ecommerce_common",
]
MIDDLEWARE = common.MIDDLEWARE
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
CACHES = common.caches()
TRUSTED_ORIGINS = ["https://shop.example.com"]
REST_FRAMEWORK = common.rest_framework(
    authentication=[
        "ecommerce_common.internal_auth.InternalTokenAuthentication",
        "ecommerce_common.user_auth.UserTokenAuthentication",
    ]
)
INTERNAL_API_TOKENS = ["current-token", "previous-token"]
USER_SERVICE_URL = "http://127.0.0.1:1"
MAX_REQUEST_BODY_BYTES = 1000
SERVICE_NAME = "common-tests"
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = None
TEMPLATES = common.TEMPLATES
SPECTACULAR_SETTINGS = common.spectacular(title="common-tests", description="common's tests")
