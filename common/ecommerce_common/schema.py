"""OpenAPI descriptions of the shared authentication schemes (registered by apps.py)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class UserTokenScheme(OpenApiAuthenticationExtension):
    target_class = "ecommerce_common.user_auth.UserTokenAuthentication"
    name = ["bearerAuth", "cookieAuth"]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        # Either scheme is enough: two alternatives, not one requirement naming both.
        return [{"bearerAuth": []}, {"cookieAuth": []}]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        return [
            {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            {"type": "apiKey", "in": "cookie", "name": "userAuthToken"},
        ]


class InternalTokenScheme(OpenApiAuthenticationExtension):
    target_class = "ecommerce_common.internal_auth.InternalTokenAuthentication"
    name = "internalToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "header", "name": "X-Internal-Token"}
