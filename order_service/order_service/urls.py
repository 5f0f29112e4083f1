"""order_service routes: the public order API, the internal API, health, schema and admin."""

from ecommerce_common.errors import handler400, handler403, handler404, handler500
from ecommerce_common.urls import service_urlpatterns

urlpatterns = service_urlpatterns("orders.urls")

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
