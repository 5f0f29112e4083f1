"""product_service's metrics: refused stock reservations and the catalogue cache's hits and
misses. Served with the shared ones (``ecommerce_common.metrics``)."""

from __future__ import annotations

from prometheus_client import Counter

STOCK_RESERVATIONS_REFUSED = Counter(
    "stock_reservations_refused_total",
    "Reservations refused, by reason (insufficient_stock, unknown_product).",
    ["reason"],
)
CATALOGUE_CACHE = Counter(
    "catalogue_cache_requests_total",
    "Catalogue reads answered from the cache (hit) or by the store (miss).",
    ["result"],
)
