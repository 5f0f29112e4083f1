"""Settings for user_service, read from the environment (docs/docs/ARCHITECTURE.md §7).

With ``DJANGO_DEBUG=false`` every secret must be set; in debug mode missing values
fall back to local defaults (SQLite under ``var/``, the dev internal token).
"""

from datetime import timedelta
from pathlib import Path

from ecommerce_common import settings as common
from ecommerce_common.base_settings import *  # noqa: F403 - the settings every service shares
from ecommerce_common.logging import logging_config
from ecommerce_common.settings import env

BASE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BASE_DIR.parent
SERVICE_NAME = "user_service"

SECRET_KEY = common.required("DJANGO_SECRET_KEY", dev_default="dev-only-user-service-secret-key")

INSTALLED_APPS = [
    *ADMIN_APPS,
    *SHARED_APPS,
    "rest_framework_simplejwt.token_blacklist",
    "users",
]

ROOT_URLCONF = "user_service.urls"
WSGI_APPLICATION = "user_service.wsgi.application"

if DEBUG:
    (REPO_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": common.database(dev_default=f"sqlite:///{REPO_DIR / 'var' / 'user_service.sqlite3'}")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# CACHES: base_settings'. The login, password-change, registration and refresh limits are
# kept in the database (users.models.RateLimitEvent), shared by every worker process.

AUTH_USER_MODEL = "users.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "first_name", "last_name")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.int("PASSWORD_MIN_LENGTH", default=8)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

STATIC_ROOT = REPO_DIR / "var" / "static" / SERVICE_NAME


INTERNAL_API_TOKENS = common.internal_api_tokens()

REST_FRAMEWORK = common.rest_framework(
    authentication=["users.authentication.AccessTokenAuthentication"],
    throttle_rates={
        "register": env.str("THROTTLE_REGISTER_RATE", default="60/hour"),
        "token_refresh": env.str("THROTTLE_TOKEN_REFRESH_RATE", default="120/minute"),
    },
)

SPECTACULAR_SETTINGS = common.spectacular(
    title="user_service API",
    description="Registration, login, JWT refresh and revocation, profile, internal token verification.",
)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_TOKEN_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_TOKEN_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

# The access-token cookie the old system's clients rely on.
AUTH_COOKIE_NAME = "userAuthToken"
AUTH_COOKIE_SECURE = env.bool("AUTH_COOKIE_SECURE", default=SECURE_COOKIES)

# Failed logins allowed per window before further attempts answer 429.
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=15 * 60)
LOGIN_FAILURE_LIMIT_PER_EMAIL = env.int("LOGIN_FAILURE_LIMIT_PER_EMAIL", default=5)
LOGIN_FAILURE_LIMIT_PER_IP = env.int("LOGIN_FAILURE_LIMIT_PER_IP", default=30)

LOGGING = logging_config(service=SERVICE_NAME)

# What `manage.py ensure_admin` calls to end an account's sessions (its tokens) when it
# promotes the account or resets the admin's password.
USER_SESSIONS_REVOKE = "users.services.user_sessions_revoke"
