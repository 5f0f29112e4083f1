"""URL patterns every service mounts: health, readiness, the OpenAPI schema and its UI; and
``service_urlpatterns``, a service's whole root URLconf around its own app's routes."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from ecommerce_common.health import health, ready

urlpatterns = [
    path("health", health, name="health"),
    path("ready", ready, name="ready"),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]


def service_urlpatterns(*app_urls: str) -> list:
    """A service's root routes: these, then its apps' (``"orders.urls"``), then its admin.
    The root URLconf also names the JSON error handlers (``ecommerce_common.errors``)."""
    return [
        path("", include("ecommerce_common.urls")),
        *(path("", include(module)) for module in app_urls),
        path("admin/", admin.site.urls),
    ]
