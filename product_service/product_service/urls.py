"""product_service routes: the catalogue, reviews, the internal stock API, admin, health, schema."""

from ecommerce_common.errors import handler400, handler403, handler404, handler500
from ecommerce_common.urls import service_urlpatterns

urlpatterns = service_urlpatterns("products.urls")

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
