"""Permissions shared by the services; each is a small predicate."""

from rest_framework import permissions
from rest_framework.request import Request


def is_admin(user: object) -> bool:
    return getattr(user, "role", None) == "admin"


class IsAdmin(permissions.BasePermission):
    def has_permission(self, request: Request, view: object) -> bool:
        return is_admin(request.user)
