"""integration_service: the Celery worker that turns order events into stock and status changes."""

from integration_service.celery import app as celery_app

__all__ = ["celery_app"]
