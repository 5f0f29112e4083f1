"""Reads on orders, scoped to what the caller may see (others' orders do not exist for them)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from uuid import UUID, uuid4

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Prefetch, QuerySet
from django.db.transaction import TransactionManagementError
from rest_framework.exceptions import NotFound

from ecommerce_common.db import db_values
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


@contextmanager
def order_found() -> Iterator[None]:
    """A missing order, or one the caller may not see, answers 404 (never 403: its existence is
    not revealed)."""
    try:
        yield
    except Order.DoesNotExist:
        raise NotFound("Order not found.") from None


def order_get(*, user: RemoteUser, order_id: UUID) -> Order:
    """One order the caller may see, else 404 (never 403: its existence is not revealed).

    Its items are read only if used (``Order.lines``): paying or cancelling does not need them.
    """
    with order_found():
        return _orders_visible(user=user).get(pk=order_id)


def order_locked(*, order_id: UUID, user: RemoteUser | None = None) -> Order:
    """The order, row-locked for the caller's transaction, holding its items (``Order.lines``,
    in the order they were given).

    One statement: the items joined to the order, ``FOR UPDATE OF`` the order only, where a
    locking read and a later read of the items were two (items never change, so they are read
    with the lock at no cost). With a ``user``, only an order that user may see is found.
    It runs three times per order, so on PostgreSQL its SQL is compiled by the ORM once per
    process (``_order_locked_sql``) and only executed here. An order without items (none is
    created so, but a row can be) gets a plain locking read. Raises ``Order.DoesNotExist``.
    """
    if not connection.in_atomic_block:
        raise TransactionManagementError("order_locked must run inside a transaction.")
    user_id = user.id if user is not None and not user.is_admin else None
    sql = _order_locked_sql(connection.alias, scoped=user_id is not None)
    if sql is None:
        lines = list(_lines_locked(order_id=order_id, user_id=user_id))
    else:
        params = db_values(Order, pk=order_id)
        lines = _lines_read(sql, params if user_id is None else [*params, user_id])
    if not lines:
        orders = Order.objects.all() if user is None else _orders_visible(user=user)
        order = orders.select_for_update().get(pk=order_id)
    else:
        order = lines[0].order
    order.lines = lines
    return order


def _lines_locked(*, order_id: UUID, user_id: str | None) -> QuerySet[OrderItem]:
    lines = OrderItem.objects.select_related("order").select_for_update(of=("order",))
    lines = lines.filter(order_id=order_id).order_by("id")
    return lines if user_id is None else lines.filter(order__user_id=user_id)


@cache
def _order_locked_sql(alias: str, *, scoped: bool) -> str | None:
    """``_lines_locked``'s statement as the ORM writes it for one database (the items'
    columns, then the order's; ``%s`` for the order id and, when ``scoped``, the user id), or
    None where its values need converting as read (SQLite's decimals and UUIDs): the ORM runs
    it there."""
    lines = _lines_locked(order_id=uuid4(), user_id="" if scoped else None).using(alias)
    compiler = lines.query.get_compiler(alias)
    sql, params = compiler.as_sql()
    if len(params) != 1 + scoped:
        raise ImproperlyConfigured(f"order_locked's statement takes {params!r}")
    columns = [column for column, _, _ in compiler.select[: compiler.col_count]]
    return None if compiler.get_converters(columns) else sql


def _lines_read(sql: str, params: list) -> list[OrderItem]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return []
    width = len(_ITEM_FIELDS)
    order = Order.from_db(connection.alias, _ORDER_FIELDS, rows[0][width:])
    lines = [OrderItem.from_db(connection.alias, _ITEM_FIELDS, row[:width]) for row in rows]
    for line in lines:
        line.order = order
    return lines


_ITEM_FIELDS = [field.attname for field in OrderItem._meta.concrete_fields]
_ORDER_FIELDS = [field.attname for field in Order._meta.concrete_fields]


def order_history(*, order: Order) -> list[StatusHistory]:
    return list(StatusHistory.objects.filter(order=order).order_by("created_at", "id"))
