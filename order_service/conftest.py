"""Fixtures for order_service's tests: a private RabbitMQ vhost, the product_service stand-in,
the simulated payment gateway and authenticated clients."""

from __future__ import annotations

import os

import pytest
from kombu import Connection, pools

from ecommerce_common.events import integration_queues
from ecommerce_common.infra import rabbitmq_vhost

# TEST_DATABASE_PREFIX also keeps concurrent runs' brokers apart on a shared machine.
VHOST = f"{os.environ.get('TEST_DATABASE_PREFIX', '')}order_service_tests"


def reset_publisher(url: str) -> None:
    """Point the Celery app at ``url`` and drop pooled connections to the old broker."""
    from django.conf import settings

    from order_service.celery import app

    # Celery prefers the CELERY_BROKER_URL environment variable to its configuration.
    os.environ["CELERY_BROKER_URL"] = url
    settings.CELERY_BROKER_URL = url
    app.conf.broker_url = url
    pools.reset()  # kombu's process-wide connection and producer pools
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture(scope="session")
def broker_url() -> str:
    url = rabbitmq_vhost(VHOST)
    reset_publisher(url)
    return url


@pytest.fixture(autouse=True)
def _use_test_broker(broker_url: str) -> None:
    """Every test publishes (if at all) into the suite's private vhost."""


@pytest.fixture
def integration_queue(broker_url: str):
    """The ``integration`` queue in the test vhost, emptied, for reading what was published."""
    with Connection(broker_url) as connection:
        queue = integration_queues()[0](connection.default_channel)
        queue.declare()
        queue.purge()
        yield connection
        queue.purge()


@pytest.fixture
def broker_down_then_up(broker_url: str):
    """The broker is unreachable (nothing listens on the port) until the returned function
    is called."""
    reset_publisher("amqp://guest:guest@127.0.0.1:1/" + VHOST)
    yield lambda: reset_publisher(broker_url)
    reset_publisher(broker_url)


@pytest.fixture
def product_server(settings, internal_token: str):
    from orders.tests.product_server import ProductServer

    server = ProductServer(internal_token=internal_token)
    settings.PRODUCT_SERVICE_URL = server.url
    yield server
    server.shutdown()


@pytest.fixture
def gateway(settings):
    """A fresh simulated payment gateway (it remembers charges per idempotency key)."""
    from payments import gateway as gateway_module

    settings.PAYMENT_GATEWAY = "payments.gateway.SimulatedGateway"
    settings.PAYMENT_SIMULATOR_MODE = "normal"
    gateway_module._gateway.cache_clear()
    yield gateway_module.get_gateway()
    gateway_module._gateway.cache_clear()


@pytest.fixture
def customer_client(api_client, verify_server):
    token = verify_server.issue(user_id="7", role="user")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client


@pytest.fixture
def other_client(verify_server):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {verify_server.issue(user_id='8')}")
    return client


@pytest.fixture
def admin_api_client(verify_server):
    from rest_framework.test import APIClient

    client = APIClient()
    token = verify_server.issue(user_id="1", role="admin")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client
