"""URLs: health, readiness, OpenAPI (from ecommerce_common) and the admin."""

from ecommerce_common.errors import handler400, handler403, handler404, handler500
from ecommerce_common.urls import service_urlpatterns

urlpatterns = service_urlpatterns()

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
