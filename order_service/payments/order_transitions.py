"""The order transitions the payment step makes, which the orders app gives payments when it
is ready (``OrdersConfig.ready``).

orders.services calls payments (a refund is scheduled when a paid order is cancelled, a payment
whose outcome is unknown is settled before its order is closed), so payments does not import
orders.services back: it takes these two from it at start-up, and the dependency runs one way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

from orders.models import Order


@dataclass(frozen=True)
class OrderTransitions:
    """``status_apply(order=, to_status=, reason=)`` moves a row-locked order inside the
    caller's transaction; ``expire(order_id=)`` expires an unpaid order, settling its payment
    first (``orders.services.order_status_apply`` and ``order_expire``)."""

    status_apply: Callable[..., Order]
    expire: Callable[..., bool]


_registered: OrderTransitions | None = None


def order_transitions_register(*, transitions: OrderTransitions) -> None:
    global _registered
    _registered = transitions


def order_transitions() -> OrderTransitions:
    if _registered is None:
        raise ImproperlyConfigured("the orders app registers its transitions when it is ready")
    return _registered
