"""WSGI entry point: gunicorn integration_service.wsgi:application (health, ready, admin)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_service.settings")

application = get_wsgi_application()
