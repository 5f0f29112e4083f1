"""The ceiling: the least a Django project under our gunicorn config can do per request.

No database, no authentication, no logging configuration; Django's security and
common middleware only. The benchmark serves it with ``deploy/gunicorn.conf.py``
and the same ``WEB_CONCURRENCY`` as the services, so the ratio of a scenario's
requests per second to this one's is what our code costs on top of the framework.
"""

SECRET_KEY = "bench-ceiling-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
ROOT_URLCONF = "ceiling.urls"
WSGI_APPLICATION = "ceiling.wsgi.application"
DATABASES: dict = {}
USE_TZ = True
APPEND_SLASH = False
