"""URLs: health, readiness, OpenAPI (from ecommerce_common) and the admin."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("ecommerce_common.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "ecommerce_common.errors.handler400"
handler403 = "ecommerce_common.errors.handler403"
handler404 = "ecommerce_common.errors.handler404"
handler500 = "ecommerce_common.errors.handler500"
