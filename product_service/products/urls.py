"""Public catalogue routes (the old system's paths) and the internal stock API."""

from django.urls import path

from products import views

urlpatterns = [
    path("product/", views.ProductListView.as_view(), name="product-list"),
    path("product/create", views.ProductCreateLegacyView.as_view(), name="product-create-legacy"),
    path("product/list", views.ProductListLegacyView.as_view(), name="product-list-legacy"),
    path("product/<str:product_id>", views.ProductDetailView.as_view(), name="product-detail"),
    path(
        "product/<str:product_id>/quantity",
        views.ProductQuantityView.as_view(),
        name="product-quantity",
    ),
    path(
        "product/<str:product_id>/reviews",
        views.ProductReviewsView.as_view(),
        name="product-reviews",
    ),
    path(
        "internal/reservations",
        views.ReservationCreateView.as_view(),
        name="internal-reservation-create",
    ),
    path(
        "internal/reservations/expire",
        views.ReservationExpireView.as_view(),
        name="internal-reservation-expire",
    ),
    path(
        "internal/reservations/<str:order_id>",
        views.ReservationDetailView.as_view(),
        name="internal-reservation-detail",
    ),
    path(
        "internal/reservations/<str:order_id>/commit",
        views.ReservationCommitView.as_view(),
        name="internal-reservation-commit",
    ),
    path(
        "internal/reservations/<str:order_id>/release",
        views.ReservationReleaseView.as_view(),
        name="internal-reservation-release",
    ),
    path("internal/stock/repair", views.StockRepairView.as_view(), name="internal-stock-repair"),
    path(
        "internal/product/<str:product_id>/quantity",
        views.ProductQuantityCommitView.as_view(),
        name="internal-product-quantity",
    ),
]
