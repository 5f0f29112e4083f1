"""Clients of the internal APIs this worker calls (product_service and order_service)."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings

from ecommerce_common.http import ServiceClient


@lru_cache(maxsize=8)
def _client(
    base_url: str, token: str, connect_timeout: float, read_timeout: float, retries: int
) -> ServiceClient:
    return ServiceClient(
        base_url,
        internal_token=token,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries=retries,
    )


def _for(base_url: str) -> ServiceClient:
    # Keyed by the settings in force, so a changed setting (or a test) gets a fresh client.
    return _client(
        base_url,
        settings.INTERNAL_API_TOKENS[0],
        settings.SERVICE_CONNECT_TIMEOUT,
        settings.SERVICE_READ_TIMEOUT,
        settings.SERVICE_HTTP_RETRIES,
    )


def product_service() -> ServiceClient:
    return _for(settings.PRODUCT_SERVICE_URL)


def order_service() -> ServiceClient:
    return _for(settings.ORDER_SERVICE_URL)
