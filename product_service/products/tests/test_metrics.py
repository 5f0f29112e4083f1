"""product_service's metrics: refused reservations by reason, catalogue cache hits and misses."""

import pytest
from prometheus_client import REGISTRY

from products import stock
from products.errors import InsufficientStock, UnknownProduct
from products.tests.factories import ProductFactory


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_refused_reservations_are_counted_by_reason():
    scarce = ProductFactory(quantity=1)
    gone = ProductFactory()
    gone_id = gone.pk
    gone.delete()
    short = counted("stock_reservations_refused_total", reason="insufficient_stock")
    unknown = counted("stock_reservations_refused_total", reason="unknown_product")

    with pytest.raises(InsufficientStock):
        stock.reservation_create(
            order_id="o-1", lines=[stock.StockLine(scarce.pk, 2)], ttl_seconds=60
        )
    with pytest.raises(UnknownProduct):
        stock.reservation_create(
            order_id="o-2", lines=[stock.StockLine(gone_id, 1)], ttl_seconds=60
        )
    stock.reservation_create(order_id="o-3", lines=[stock.StockLine(scarce.pk, 1)], ttl_seconds=60)

    assert counted("stock_reservations_refused_total", reason="insufficient_stock") == short + 1
    assert counted("stock_reservations_refused_total", reason="unknown_product") == unknown + 1


def test_catalogue_reads_count_one_miss_then_one_hit(api_client):
    product = ProductFactory()
    hits = counted("catalogue_cache_requests_total", result="hit")
    misses = counted("catalogue_cache_requests_total", result="miss")

    outcomes = [api_client.get(f"/product/{product.pk}")["X-Cache"] for _ in range(2)]

    assert outcomes == ["miss", "hit"]
    assert counted("catalogue_cache_requests_total", result="hit") == hits + 1
    assert counted("catalogue_cache_requests_total", result="miss") == misses + 1
