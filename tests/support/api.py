"""A small HTTP client for the cross-service tests: only the public and internal APIs."""

from __future__ import annotations

import http.cookiejar
import time
import uuid
from typing import Any

import requests

from launcher.processes import System


class Api:
    def __init__(self, system: System) -> None:
        self.system = system
        self.session = requests.Session()
        # Tokens travel explicitly; a login's cookie must not ride along on later calls
        # (it would make "anonymous" calls authenticated, or revoked after a logout).
        self.session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        env = system.environment("user_service")
        self.internal_token = env["INTERNAL_API_TOKENS"].split(",")[0]
        self.admin_email = env["ADMIN_EMAIL"]
        self.admin_password = env["ADMIN_PASSWORD"]

    def url(self, service: str, path: str) -> str:
        return f"{self.system.settings.url(service)}{path}"

    def call(
        self, method: str, service: str, path: str, *, token: str | None = None, **kwargs: Any
    ):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.session.request(
            method, self.url(service, path), headers=headers, timeout=15, **kwargs
        )

    def internal(self, method: str, service: str, path: str, **kwargs: Any):
        headers = {"X-Internal-Token": self.internal_token, **kwargs.pop("headers", {})}
        return self.call(method, service, path, headers=headers, **kwargs)

    # --- users ---

    def register(self, *, email: str | None = None, password: str = "S3cure-passw0rd!") -> dict:
        email = email or f"buyer-{uuid.uuid4().hex[:10]}@example.com"
        response = self.call(
            "POST",
            "user_service",
            "/users/register",
            json={"firstName": "Test", "lastName": "Buyer", "email": email, "password": password},
        )
        assert response.status_code == 201, response.text
        return {"email": email, "password": password, **response.json()["user"]}

    def login(self, email: str, password: str) -> str:
        response = self.call(
            "POST", "user_service", "/users/login", json={"email": email, "password": password}
        )
        assert response.status_code == 200, response.text
        return response.json()["token"]

    def new_user(self) -> tuple[dict, str]:
        user = self.register()
        return user, self.login(user["email"], user["password"])

    def admin_token(self) -> str:
        return self.login(self.admin_email, self.admin_password)

    # --- products ---

    def create_product(
        self, token: str, *, quantity: int = 10, price: float = 25.0, **fields: Any
    ) -> dict:
        body = {
            "title": f"Product {uuid.uuid4().hex[:8]}",
            "description": "A product for the cross-service tests.",
            "price": price,
            "category": "Electronics",
            "quantity": quantity,
            "imageUrl": "https://example.com/p.png",
            "tags": ["e2e"],
            **fields,
        }
        response = self.call("POST", "product_service", "/product/", token=token, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def product(self, product_id: str) -> dict:
        response = self.call("GET", "product_service", f"/product/{product_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def available(self, product_id: str) -> int:
        response = self.call("GET", "product_service", f"/product/{product_id}/quantity")
        assert response.status_code == 200, response.text
        return response.json()["quantity"]

    # --- orders ---

    def place_order(self, token: str, items: list[tuple[str, int]], **kwargs: Any):
        body = {"items": [{"productId": pid, "quantity": qty} for pid, qty in items]}
        return self.call("POST", "order_service", "/orders", token=token, json=body, **kwargs)

    def pay(self, token: str, order_id: str, payment_token: str = "tok_visa"):
        return self.call(
            "POST",
            "order_service",
            f"/orders/{order_id}/pay",
            token=token,
            json={"paymentToken": payment_token},
        )

    def order_status(self, token: str, order_id: str) -> dict:
        response = self.call("GET", "order_service", f"/orders/{order_id}/status", token=token)
        assert response.status_code == 200, response.text
        return response.json()

    def wait_for_status(
        self, token: str, order_id: str, wanted: str | set[str], *, timeout: float = 40
    ) -> dict:
        wanted = {wanted} if isinstance(wanted, str) else wanted
        deadline = time.monotonic() + timeout
        body: dict = {}
        while time.monotonic() < deadline:
            body = self.order_status(token, order_id)
            if body["orderStatus"]["status"] in wanted:
                return body
            time.sleep(0.3)
        raise AssertionError(f"order {order_id} never reached {wanted}; last: {body}")

    def wait_for_available(self, product_id: str, expected: int, *, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.available(product_id) == expected:
                return
            time.sleep(0.3)
        raise AssertionError(
            f"available stock of {product_id} is {self.available(product_id)}, wanted {expected}"
        )
