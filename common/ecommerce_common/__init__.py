"""Code shared by the ecommerce-backend services.

A library, never run on its own: it has no models and imports no service.
Add ``"ecommerce_common"`` to a service's INSTALLED_APPS to get its
management commands (``ensure_admin``).
"""
