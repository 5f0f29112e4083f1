"""user_service routes: the public /users API, /internal/verify, admin, health and schema."""

from ecommerce_common.errors import handler400, handler403, handler404, handler500
from ecommerce_common.urls import service_urlpatterns

urlpatterns = service_urlpatterns("users.urls")

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
