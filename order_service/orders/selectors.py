"""Reads on orders, scoped to what the caller may see (others' orders do not exist for them)."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Prefetch, QuerySet
from rest_framework.exceptions import NotFound

from ecommerce_common.user_auth import RemoteUser
from orders.models import Order, OrderItem, StatusHistory


def _orders_visible(*, user: RemoteUser) -> QuerySet[Order]:
    """The orders the caller may see: their own, or every order for an admin."""
    if user.is_admin:
        return Order.objects.all()
    return Order.objects.filter(user_id=user.id)


def order_list(*, user: RemoteUser, status: str | None = None) -> QuerySet[Order]:
    """The caller's orders, newest first (every order for an admin), with their items."""
    orders = (
        _orders_visible(user=user)
        .prefetch_related(
            Prefetch("items", queryset=OrderItem.objects.order_by("id"), to_attr="lines")
        )
        .order_by("-created_at", "-id")
    )
    if status:
        orders = orders.filter(status=status)
    return orders


def order_get(*, user: RemoteUser, order_id: UUID) -> Order:
    """One order the caller may see, else 404 (never 403: its existence is not revealed).

    Its items are read only if used (``Order.lines``): paying or cancelling does not need them.
    """
    try:
        return _orders_visible(user=user).get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFound("Order not found.") from None


def order_locked(*, order_id: UUID, user: RemoteUser | None = None) -> Order:
    """The order, row-locked for the caller's transaction, holding its items (``Order.lines``).

    One statement: the items joined to the order, ``FOR UPDATE OF`` the order only, where a
    locking read and a later read of the items were two (items never change, so they are read
    with the lock at no cost). With a ``user``, only an order that user may see is found.
    An order without items (none is created so, but a row can be) gets a plain locking read.
    Raises ``Order.DoesNotExist``.
    """
    lines = OrderItem.objects.select_related("order").select_for_update(of=("order",))
    lines = lines.filter(order_id=order_id)
    if user is not None and not user.is_admin:
        lines = lines.filter(order__user_id=user.id)
    lines = list(lines)
    if not lines:
        orders = Order.objects.all() if user is None else _orders_visible(user=user)
        order = orders.select_for_update().get(pk=order_id)
    else:
        order = lines[0].order
    order.lines = lines
    return order


def order_history(*, order: Order) -> list[StatusHistory]:
    return list(StatusHistory.objects.filter(order=order).order_by("created_at", "id"))
