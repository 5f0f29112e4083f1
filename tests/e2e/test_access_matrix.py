"""Who may call what: every public and internal route against every kind of caller.

The table below is the specification (docs/ARCHITECTURE.md §2-§4). Each row is a route; each
column the status one kind of caller gets:

- ``anon``   no credentials at all;
- ``user``   the owner: the objects in the path are theirs (a product they sell, an
             order they placed);
- ``other``  another ordinary user;
- ``admin``  the admin (ADMIN_EMAIL);
- ``int``    the service-to-service secret, ``X-Internal-Token``, and nothing else
             (on ``/internal/verify`` it also hands over the owner's access token, which
             is what that route verifies);
- ``bad``    a wrong ``X-Internal-Token`` (likewise with the owner's token on verify).

What the table says, in words: public reads are open to everyone; writes need a user
(401 without one); someone else's object is 404, never 403; the admin may act on any
object; internal routes open only to the internal token (401 otherwise, with no data),
a user's token never opens them and the internal token never acts as a user on the
public routes. The Django admin site (session login, not tokens) redirects everyone to
its login page. Every refusal is the error body ``{message, code, errors}`` and nothing
else, and a refused write leaves the product as it was.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from support.loopback import session_from

ACTORS = ("anon", "user", "other", "admin", "int", "bad")

USERS = "user_service"
PRODUCTS = "product_service"
ORDERS = "order_service"
INTEGRATION = "integration_service"
SERVICES = (USERS, PRODUCTS, ORDERS, INTEGRATION)

WRONG_INTERNAL_TOKEN = "not-the-internal-token"


def product_body(**changes: Any) -> dict:
    return {
        "title": "Matrix product",
        "description": "listed by the access matrix",
        "price": 12.5,
        "category": "Books",
        "quantity": 5,
        "imageUrl": "https://example.com/m.png",
        "tags": ["matrix"],
        **changes,
    }


@dataclass(frozen=True)
class Route:
    service: str
    method: str
    # Placeholders: {product} (the owner's product), {order} (the owner's order),
    # {reservation} (an order id with an active reservation of the owner's product).
    path: str
    expected: tuple[int, int, int, int, int, int]  # in ACTORS order
    body: Callable[[Context], Any] | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


# fmt: off
TABLE: list[Route] = [
    #      service      method    path                                     anon  user  other admin int   bad
    # --- user_service: accounts (open), the caller's own account (any user), verify (internal)
    Route(USERS,    "POST",   "/users/register",                          (201,  201,  201,  201,  201,  201),
          body=lambda c: c.registration()),
    Route(USERS,    "POST",   "/users/login",                             (200,  200,  200,  200,  200,  200),
          body=lambda c: {"email": c.owner["email"], "password": c.owner["password"]}),
    Route(USERS,    "POST",   "/users/token/refresh",                     (200,  200,  200,  200,  200,  200),
          body=lambda c: {"refresh": c.owner_refresh()}),
    Route(USERS,    "GET",    "/users/me",                                (401,  200,  200,  200,  401,  401)),
    Route(USERS,    "PATCH",  "/users/me",                                (401,  200,  200,  200,  401,  401),
          body=lambda c: {"firstName": "Renamed"}),
    # A wrong current password: a right one would end the sessions the other rows use.
    Route(USERS,    "POST",   "/users/me/password",                       (401,  400,  400,  400,  401,  401),
          body=lambda c: {"currentPassword": "not-the-password", "newPassword": "M4trix-n3w-pass!"}),
    Route(USERS,    "POST",   "/users/logout",                            (401,  200,  200,  200,  401,  401),
          body=lambda c: {}),
    # The old clients' GET only clears the cookie: it reads no token, so any caller gets 200.
    Route(USERS,    "GET",    "/users/logout",                            (200,  200,  200,  200,  200,  200)),
    Route(USERS,    "GET",    "/internal/verify",                         (401,  401,  401,  401,  200,  401)),
    # --- product_service: the catalogue (reads open, writes by a user, edits by seller/admin)
    Route(PRODUCTS, "GET",    "/product/",                                (200,  200,  200,  200,  200,  200)),
    Route(PRODUCTS, "GET",    "/product/list?filter={filter}",            (200,  200,  200,  200,  200,  200)),
    Route(PRODUCTS, "GET",    "/product/{product}",                       (200,  200,  200,  200,  200,  200)),
    Route(PRODUCTS, "GET",    "/product/{product}/quantity",              (200,  200,  200,  200,  200,  200)),
    Route(PRODUCTS, "GET",    "/product/{product}/reviews",               (200,  200,  200,  200,  200,  200)),
    Route(PRODUCTS, "POST",   "/product/",                                (401,  201,  201,  201,  401,  401),
          body=lambda c: product_body()),
    Route(PRODUCTS, "POST",   "/product/create",                          (401,  201,  201,  201,  401,  401),
          body=lambda c: product_body()),
    Route(PRODUCTS, "PATCH",  "/product/{product}",                       (401,  200,  404,  200,  401,  401),
          body=lambda c: {"price": 99.99, "quantity": 1}),
    Route(PRODUCTS, "PUT",    "/product/{product}",                       (401,  200,  404,  200,  401,  401),
          body=lambda c: product_body(title="Replaced", quantity=1)),
    Route(PRODUCTS, "DELETE", "/product/{product}",                       (401,  204,  404,  204,  401,  401)),
    # The seller (the owner) cannot review their own product.
    Route(PRODUCTS, "POST",   "/product/{product}/reviews",               (401,  403,  201,  201,  401,  401),
          body=lambda c: {"rating": 4, "title": "ok", "description": "fine"}),
    # --- product_service: the internal stock API
    Route(PRODUCTS, "POST",   "/internal/reservations",                   (401,  401,  401,  401,  201,  401),
          body=lambda c: {"orderId": c.new_order_id(),
                          "items": [{"productId": c.product_id(), "quantity": 1}]}),
    Route(PRODUCTS, "GET",    "/internal/reservations/{reservation}",     (401,  401,  401,  401,  200,  401)),
    Route(PRODUCTS, "POST",   "/internal/reservations/{reservation}/commit",  (401,  401,  401,  401,  200,  401)),
    Route(PRODUCTS, "POST",   "/internal/reservations/{reservation}/release", (401,  401,  401,  401,  200,  401)),
    Route(PRODUCTS, "POST",   "/internal/reservations/expire",            (401,  401,  401,  401,  200,  401)),
    Route(PRODUCTS, "POST",   "/internal/stock/repair",                   (401,  401,  401,  401,  200,  401)),
    Route(PRODUCTS, "PUT",    "/internal/product/{product}/quantity",     (401,  401,  401,  401,  200,  401),
          body=lambda c: {"quantity": 1, "orderId": c.new_order_id()}),
    # --- order_service: orders (a user's own; others' are 404; the admin sees all)
    Route(ORDERS,   "GET",    "/orders",                                  (401,  200,  200,  200,  401,  401)),
    Route(ORDERS,   "POST",   "/orders",                                  (401,  201,  201,  201,  401,  401),
          body=lambda c: {"items": [{"productId": c.product_id(), "quantity": 1}]}),
    Route(ORDERS,   "GET",    "/orders/{order}",                          (401,  200,  404,  200,  401,  401)),
    Route(ORDERS,   "GET",    "/orders/{order}/status",                   (401,  200,  404,  200,  401,  401)),
    Route(ORDERS,   "POST",   "/orders/{order}/pay",                      (401,  200,  404,  200,  401,  401),
          body=lambda c: {"paymentToken": "tok_visa"}),
    Route(ORDERS,   "POST",   "/orders/{order}/cancel",                   (401,  200,  404,  200,  401,  401)),
    # --- order_service: the internal API
    Route(ORDERS,   "PUT",    "/internal/orders/{order}/status",          (401,  401,  401,  401,  200,  401),
          body=lambda c: {"status": "cancelled", "reason": "matrix", "eventId": c.new_order_id()}),
    Route(ORDERS,   "POST",   "/internal/outbox/relay",                   (401,  401,  401,  401,  200,  401)),
    Route(ORDERS,   "POST",   "/internal/orders/expire",                  (401,  401,  401,  401,  200,  401)),
    # --- every service: probes and the schema are open; the admin site wants its own login
    *[Route(s,      "GET",    "/health",                                  (200,  200,  200,  200,  200,  200))
      for s in SERVICES],
    *[Route(s,      "GET",    "/ready",                                   (200,  200,  200,  200,  200,  200))
      for s in SERVICES],
    # The schema reads no credentials: a wrong internal token does not refuse it either.
    *[Route(s,      "GET",    "/api/schema",                              (200,  200,  200,  200,  200,  200))
      for s in SERVICES],
    *[Route(s,      "GET",    "/admin/",                                  (302,  302,  302,  302,  302,  302))
      for s in SERVICES],
]
# fmt: on

CASES = [
    pytest.param(route, actor, expected, id=f"{route.service}:{route} as {actor} -> {expected}")
    for route in TABLE
    for actor, expected in zip(ACTORS, route.expected, strict=True)
]


class People:
    """The owner, another user and the admin, each logged in once for the module."""

    def __init__(self, api, session) -> None:
        self.api = api
        self.session = session
        self.owner, self.owner_token = api.new_user()
        self.other, self.other_token = api.new_user()
        self.admin_token = api.admin_token()

    def login(self, email: str, password: str) -> dict:
        # Through the cookie-less session: a token revoked later must not linger in a cookie.
        response = self.session.post(
            self.api.url(USERS, "/users/login"),
            json={"email": email, "password": password},
            timeout=15,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def fresh_token(self, actor: str) -> str:
        """A token of the actor's own for a call that revokes the token it is given (logout)."""
        if actor == "admin":
            return self.login(self.api.admin_email, self.api.admin_password)["token"]
        person = self.owner if actor == "user" else self.other
        return self.login(person["email"], person["password"])["token"]

    def token(self, actor: str) -> str | None:
        return {"user": self.owner_token, "other": self.other_token, "admin": self.admin_token}.get(
            actor
        )


class Context:
    """The objects one row needs, made fresh for it (a row may delete or pay for them)."""

    def __init__(self, api, people: People) -> None:
        self.api = api
        self.people = people
        self.owner = people.owner
        self._product: dict | None = None
        self._order: dict | None = None
        self._reservation: str | None = None

    def registration(self) -> dict:
        return {
            "firstName": "Matrix",
            "lastName": "Caller",
            "email": f"matrix-{uuid.uuid4().hex[:10]}@example.com",
            "password": "M4trix-passw0rd!",
        }

    def owner_refresh(self) -> str:
        return self.people.login(self.owner["email"], self.owner["password"])["refresh"]

    def new_order_id(self) -> str:
        return f"matrix-{uuid.uuid4().hex}"

    def product(self) -> dict:
        if self._product is None:
            self._product = self.api.create_product(self.people.owner_token, quantity=20)
        return self._product

    def product_id(self) -> str:
        return self.product()["id"]

    def order(self) -> dict:
        if self._order is None:
            response = self.api.place_order(self.people.owner_token, [(self.product_id(), 1)])
            assert response.status_code == 201, response.text
            self._order = response.json()
        return self._order

    def reservation(self) -> str:
        if self._reservation is None:
            order_id = self.new_order_id()
            response = self.api.internal(
                "POST",
                PRODUCTS,
                "/internal/reservations",
                json={
                    "orderId": order_id,
                    "items": [{"productId": self.product_id(), "quantity": 1}],
                },
            )
            assert response.status_code == 201, response.text
            self._reservation = order_id
        return self._reservation

    def path(self, template: str) -> str:
        values = {}
        if "{product}" in template:
            values["product"] = self.product_id()
        if "{order}" in template:
            values["order"] = self.order()["id"]
        if "{reservation}" in template:
            values["reservation"] = self.reservation()
        if "{filter}" in template:
            values["filter"] = json.dumps({"category": "Books"})
        return template.format(**values)


def headers_for(actor: str, route: Route, people: People) -> dict[str, str]:
    headers: dict[str, str] = {}
    if actor in ("user", "other", "admin"):
        revokes = route.path == "/users/logout"
        token = people.fresh_token(actor) if revokes else people.token(actor)
        headers["Authorization"] = f"Bearer {token}"
    elif actor in ("int", "bad"):
        headers["X-Internal-Token"] = (
            people.api.internal_token if actor == "int" else WRONG_INTERNAL_TOKEN
        )
        if route.path == "/internal/verify":
            # The token being verified: the owner's.
            headers["Authorization"] = f"Bearer {people.owner_token}"
    return headers


@pytest.fixture(scope="module")
def session():
    # An address of its own (the register/refresh throttles count per client IP), no cookies.
    session = session_from("127.0.0.78")
    yield session
    session.close()


@pytest.fixture(scope="module")
def people(api, session) -> People:
    return People(api, session)


def public_view(api, session, product_id: str) -> dict | None:
    response = session.get(api.url(PRODUCTS, f"/product/{product_id}"), timeout=15)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    body = response.json()
    return {key: body[key] for key in ("title", "price", "quantity", "rating", "reviewCount")}


@pytest.mark.parametrize(("route", "actor", "expected"), CASES)
def test_access(api, people, session, route: Route, actor: str, expected: int):
    context = Context(api, people)
    path = context.path(route.path)
    body = route.body(context) if route.body else None
    before = public_view(api, session, context.product_id()) if context._product else None

    response = session.request(
        route.method,
        api.url(route.service, path),
        headers=headers_for(actor, route, people),
        json=body,
        allow_redirects=False,
        timeout=15,
    )

    assert response.status_code == expected, (
        f"{route.service} {route} as {actor}: {response.status_code} {response.text[:300]}"
    )
    if expected in (401, 403, 404) and response.headers.get("Content-Type", "").startswith(
        "application/json"
    ):
        # A refusal carries the error and no data.
        assert set(response.json()) == {"message", "code", "errors"}, response.text
    if expected >= 400 and before is not None:
        # A refused call changed nothing.
        assert public_view(api, session, context.product_id()) == before
    if expected == 302:
        assert "/admin/login/" in response.headers["Location"]


# Writes the owner's token opens (any unsafe route a user may call), as a browser would send
# them with the userAuthToken cookie from another site's page.
COOKIE_WRITES = [
    route
    for route in TABLE
    if route.method in ("POST", "PUT", "PATCH", "DELETE")
    and not route.path.startswith("/internal")
    and route.expected[ACTORS.index("user")] < 400
    and route.expected[ACTORS.index("anon")] == 401
]


@pytest.mark.parametrize("route", COOKIE_WRITES, ids=[f"{r.service}:{r}" for r in COOKIE_WRITES])
def test_a_cookie_write_from_another_site_is_refused_on_every_route(api, people, session, route):
    """The owner's cookie, sent from another site's page: 403 untrusted_origin, nothing changed.
    (The same request without an Origin is the ``user`` column above.)"""
    context = Context(api, people)
    path = context.path(route.path)
    body = route.body(context) if route.body else None
    before = public_view(api, session, context.product_id()) if context._product else None
    token = people.fresh_token("user") if route.path == "/users/logout" else people.owner_token

    response = session.request(
        route.method,
        api.url(route.service, path),
        headers={"Cookie": f"userAuthToken={token}", "Origin": "https://evil.example.net"},
        json=body,
        timeout=15,
    )

    assert response.status_code == 403, f"{route}: {response.status_code} {response.text[:300]}"
    assert response.json()["code"] == "untrusted_origin"
    if before is not None:
        assert public_view(api, session, context.product_id()) == before
    if route.path == "/users/logout":
        assert api.call("GET", USERS, "/users/me", token=token).status_code == 200


def test_order_lists_are_scoped_to_their_owner(api, people):
    """``GET /orders``: the owner and the admin see the order; another user does not."""
    context = Context(api, people)
    order_id = context.order()["id"]

    def listed(token: str) -> set[str]:
        response = api.call("GET", ORDERS, "/orders", token=token, params={"pageSize": 100})
        assert response.status_code == 200, response.text
        return {order["id"] for order in response.json()["results"]}

    assert order_id in listed(people.owner_token)
    assert order_id in listed(people.admin_token)
    assert order_id not in listed(people.other_token)


def test_every_route_of_every_schema_is_in_the_table(api):
    """A route added to a service without a row here fails this test."""
    covered = {(route.service, route.method, route.path.split("?")[0]) for route in TABLE}

    def normalise(path: str) -> str:
        for name, placeholder in (
            ("{product_id}", "{product}"),
            ("{order_id}", "{order}"),
        ):
            path = path.replace(name, placeholder)
        return path

    missing = []
    for service in (USERS, PRODUCTS, ORDERS):
        schema = api.call("GET", service, "/api/schema", headers={"Accept": "application/json"})
        for path, operations in schema.json()["paths"].items():
            for method in operations:
                key = (service, method.upper(), normalise(path))
                reservation_key = (
                    service,
                    method.upper(),
                    path.replace("{order_id}", "{reservation}"),
                )
                if key not in covered and reservation_key not in covered:
                    missing.append(key)
    assert missing == []
