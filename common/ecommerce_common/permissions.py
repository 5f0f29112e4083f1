"""Permissions shared by the services; each is a small predicate."""


def is_admin(user: object) -> bool:
    return getattr(user, "role", None) == "admin"
