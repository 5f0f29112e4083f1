"""The Celery app order_service publishes order events with (it runs no worker of its own)."""

import os

from celery import Celery

from ecommerce_common.celery import install_request_id_propagation
from ecommerce_common.events import integration_queues

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "order_service.settings")

app = Celery("order_service")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = integration_queues()
install_request_id_propagation()
