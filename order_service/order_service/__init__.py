"""order_service: orders, the payment step, the order state machine and the transactional outbox."""

from order_service.celery import app as celery_app

__all__ = ["celery_app"]
