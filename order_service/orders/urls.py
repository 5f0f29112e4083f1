"""Public order routes (no trailing slash, as the old system) and the internal routes."""

from django.urls import path

from orders import internal_views, views

urlpatterns = [
    path("orders", views.OrderListCreateView.as_view(), name="order-list"),
    path("orders/<uuid:order_id>", views.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<uuid:order_id>/status", views.OrderStatusView.as_view(), name="order-status"),
    path("orders/<uuid:order_id>/pay", views.OrderPayView.as_view(), name="order-pay"),
    path("orders/<uuid:order_id>/cancel", views.OrderCancelView.as_view(), name="order-cancel"),
    path(
        "internal/orders/<uuid:order_id>/status",
        internal_views.InternalOrderStatusView.as_view(),
        name="internal-order-status",
    ),
    path(
        "internal/outbox/relay",
        internal_views.InternalOutboxRelayView.as_view(),
        name="internal-outbox-relay",
    ),
    path(
        "internal/orders/expire",
        internal_views.InternalOrdersExpireView.as_view(),
        name="internal-orders-expire",
    ),
]
