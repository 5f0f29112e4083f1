"""The old Node.js system's clients keep working: its paths, bodies and the userAuthToken cookie."""

from __future__ import annotations

import json
import uuid

import requests


def test_old_client_registers_logs_in_and_orders_with_the_cookie_only(api):
    browser = requests.Session()  # keeps cookies, sends no Authorization header
    users = api.system.settings.url("user_service")
    products = api.system.settings.url("product_service")
    orders = api.system.settings.url("order_service")
    email = f"old-{uuid.uuid4().hex[:8]}@example.com"

    registered = browser.post(
        f"{users}/users/register",
        json={
            "firstName": "Old",
            "lastName": "Client",
            "email": email,
            "password": "An0ld-but-good!",
        },
    )
    assert registered.status_code == 201
    assert "password" not in registered.json()["user"]
    login = browser.post(
        f"{users}/users/login", json={"email": email, "password": "An0ld-but-good!"}
    )
    assert login.status_code == 200
    assert set(login.json()) >= {"message", "token", "refresh"}
    cookie = next(c for c in browser.cookies if c.name == "userAuthToken")
    assert cookie.has_nonstandard_attr("HttpOnly") or cookie._rest.get("HttpOnly") is not None
    # Cookies are scoped by host, and every service shares 127.0.0.1 (as they share the ingress host).

    created = browser.post(
        f"{products}/product/create",
        json={
            "title": "Old style product",
            "description": "created as the old client did",
            "price": 12.5,
            "category": "Books",
            "quantity": 3,
            "imageUrl": "image",
            "tags": "tags",
        },
    )
    assert created.status_code == 201, created.text
    product = created.json()
    assert product["tags"] == ["tags"]

    listed = browser.get(
        f"{products}/product/list", params={"filter": json.dumps({"id": product["id"]})}
    )
    assert listed.status_code == 200
    assert [p["id"] for p in listed.json()] == [product["id"]]

    ordered = browser.post(
        f"{orders}/orders", json={"productId": product["id"], "quantity": 2, "totalAmount": 25}
    )
    assert ordered.status_code == 201, ordered.text
    order = ordered.json()
    assert order["totalAmount"] == 25.0
    assert order["status"] == "payment_pending"

    mine = browser.get(f"{orders}/orders")
    assert mine.status_code == 200
    assert [o["id"] for o in mine.json()["results"]] == [order["id"]]

    status = browser.get(f"{orders}/orders/{order['id']}/status")
    assert status.status_code == 200
    assert status.json()["orderStatus"]["status"] == "payment_pending"
    assert status.json()["orderStatus"]["label"] == "payment pending"

    logout = browser.get(f"{users}/users/logout")
    assert logout.status_code == 200
    assert not any(c.name == "userAuthToken" for c in browser.cookies)
