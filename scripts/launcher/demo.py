"""Demo data: a demo buyer and a small catalogue, loaded by ``up`` over the public API."""

from __future__ import annotations

from .config import LaunchError, stored_secrets
from .processes import System

DEMO_PRODUCTS = [
    ("Noise-cancelling headphones", "Over-ear, 30 h battery.", "199.00", "Electronics", 25),
    ("Mechanical keyboard", "Hot-swappable switches, USB-C.", "89.50", "Electronics", 40),
    ("Merino wool sweater", "Warm, breathable, machine washable.", "74.00", "Clothing", 30),
    ("The Pragmatic Programmer", "20th anniversary edition.", "39.99", "Books", 50),
    ("Cast-iron skillet", "Pre-seasoned 26 cm pan.", "34.90", "Home & Kitchen", 20),
    ("Trail running shoes", "Grippy outsole, 8 mm drop.", "120.00", "Sports", 15),
]


def load_demo_data(system: System) -> dict[str, str]:
    """A demo buyer and a small catalogue, over the public API; safe to run again."""
    import requests

    stored = stored_secrets(system.settings)
    users = system.settings.url("user_service")
    demo = {"email": "demo@example.com", "password": stored["DEMO_PASSWORD"]}
    requests.post(
        f"{users}/users/register",
        json={"firstName": "Demo", "lastName": "Buyer", **demo},
        timeout=10,
    )
    admin_login = requests.post(
        f"{users}/users/login",
        json={
            "email": system.environment("user_service")["ADMIN_EMAIL"],
            "password": stored["ADMIN_PASSWORD"],
        },
        timeout=10,
    )
    if admin_login.status_code != 200:
        raise LaunchError(f"admin login failed: {admin_login.status_code} {admin_login.text[:200]}")
    token = admin_login.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    products = system.settings.url("product_service")
    me = requests.get(f"{users}/users/me", headers=headers, timeout=10).json()
    listed = requests.get(
        f"{products}/product/",
        params={"seller": me["id"], "tags": "demo", "pageSize": 100},
        timeout=10,
    ).json()
    have = {item["title"] for item in listed.get("results", [])}
    for title, description, price, category, quantity in DEMO_PRODUCTS:
        if title in have:
            continue
        response = requests.post(
            f"{products}/product/",
            headers=headers,
            json={
                "title": title,
                "description": description,
                "price": float(price),
                "category": category,
                "quantity": quantity,
                "imageUrl": f"https://picsum.photos/seed/{abs(hash(title)) % 1000}/400",
                "tags": ["demo", category.lower()],
            },
            timeout=10,
        )
        if response.status_code != 201:
            raise LaunchError(f"demo product failed: {response.status_code} {response.text[:200]}")
    return demo
