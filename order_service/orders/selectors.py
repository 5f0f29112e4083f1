"""Reads on orders, scoped to what the caller may see (others' orders do not exist for them)."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Prefetch, QuerySet
from rest_framework.exceptions import NotFound

from ecommerce_common.user_auth import RemoteUser
from orders.models import Order, OrderItem, StatusHistory


def order_list(*, user: RemoteUser, status: str | None = None) -> QuerySet[Order]:
    """The caller's orders, newest first (every order for an admin), with their items."""
    orders = Order.objects.prefetch_related(
        Prefetch("items", queryset=OrderItem.objects.order_by("id"))
    ).order_by("-created_at", "-id")
    if not user.is_admin:
        orders = orders.filter(user_id=user.id)
    if status:
        orders = orders.filter(status=status)
    return orders


def order_get(*, user: RemoteUser, order_id: UUID) -> Order:
    """One order the caller may see, else 404 (never 403: its existence is not revealed)."""
    order = order_list(user=user).filter(pk=order_id).first()
    if order is None:
        raise NotFound("Order not found.")
    return order


def order_history(*, order: Order) -> list[StatusHistory]:
    return list(StatusHistory.objects.filter(order=order).order_by("created_at", "id"))
