"""Who may do what to a product: public reads, authenticated writes, edits by seller or admin."""

from __future__ import annotations

from rest_framework import permissions
from rest_framework.request import Request

from ecommerce_common.permissions import is_admin
from products.models import Product


class ReadOnlyOrAuthenticated(permissions.BasePermission):
    def has_permission(self, request: Request, view: object) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(getattr(request.user, "is_authenticated", False))


def can_edit(user: object, product: Product) -> bool:
    return is_admin(user) or str(getattr(user, "id", "")) == product.seller
