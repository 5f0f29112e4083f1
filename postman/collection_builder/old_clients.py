"""The Old clients folder: the old Node.js system's calls as its clients made them (cookie only)."""

from __future__ import annotations

from .items import folder, request
from .scripts import CLEAR_COOKIES, PAGE, error, order_status, status


def signing_in() -> list[dict]:
    """Register, log in and who am I, with the cookie only."""
    return [
        request(
            "Old client: register",
            "POST",
            "userUrl",
            "/users/register",
            pre=CLEAR_COOKIES
            + """
pm.collectionVariables.set("oldEmail", "old-client-" + pm.collectionVariables.get("runId") + "@example.com");
""",
            body={
                "firstName": "Old",
                "lastName": "Client",
                "email": "{{oldEmail}}",
                "password": "{{password}}",
            },
            test=status(201),
        ),
        request(
            "Old client: log in (the cookie is all it keeps)",
            "POST",
            "userUrl",
            "/users/login",
            body={"email": "{{oldEmail}}", "password": "{{password}}"},
            test=status(200)
            + """
pm.test("sets the userAuthToken cookie to the access token", () => pm.expect(pm.cookies.get("userAuthToken")).to.eql(pm.response.json().token));
""",
        ),
        request(
            "Old client: who am I (cookie only)",
            "GET",
            "userUrl",
            "/users/me",
            test=status(200)
            + """
pm.test("the old client", () => pm.expect(pm.response.json().email).to.eql(pm.collectionVariables.get("oldEmail")));
pm.collectionVariables.set("oldUserId", pm.response.json().id);
""",
        ),
    ]


def shopping() -> list[dict]:
    """A product created and listed, an order placed, listed, followed and cancelled."""
    return [
        request(
            "Old client: POST /product/create (cookie only)",
            "POST",
            "productUrl",
            "/product/create",
            body={
                "title": "Old style product {{runId}}",
                "description": "created as the old client did",
                "price": 12.5,
                "category": "Books",
                "quantity": 3,
                "imageUrl": "image",
                "tags": "tags",
            },
            test=status(201)
            + """
const product = pm.response.json();
pm.test("sold by the old client, tags as a list", () => {
    pm.expect(product.seller).to.eql(pm.collectionVariables.get("oldUserId"));
    pm.expect(product.tags).to.eql(["tags"]);
});
pm.collectionVariables.set("oldProductId", product.id);
""",
        ),
        request(
            "Old client: GET /product/list?filter by id",
            "GET",
            "productUrl",
            "/product/list",
            query={"filter": '{"id":"{{oldProductId}}"}'},
            test=status(200)
            + """
pm.test("a plain array with the product", () => pm.expect(pm.response.json().map((p) => p.id)).to.eql([pm.collectionVariables.get("oldProductId")]));
""",
        ),
        request(
            "Old client: POST /orders {productId, quantity, totalAmount} (cookie only)",
            "POST",
            "orderUrl",
            "/orders",
            body={"productId": "{{oldProductId}}", "quantity": 2, "totalAmount": 25},
            test=status(201)
            + """
const order = pm.response.json();
pm.test("payment_pending for 25.00", () => {
    pm.expect(order.status).to.eql("payment_pending");
    pm.expect(order.totalAmount).to.eql(25);
    pm.expect(order.userId).to.eql(pm.collectionVariables.get("oldUserId"));
});
pm.collectionVariables.set("oldClientOrderId", order.id);
""",
        ),
        request(
            "Old client: a cookie write from another site's page is 403",
            "POST",
            "orderUrl",
            "/orders",
            headers={"Origin": "https://evil.example.net"},
            body={"productId": "{{oldProductId}}", "quantity": 1},
            test=error(403, "untrusted_origin"),
        ),
        request(
            "Old client: GET /orders (cookie only)",
            "GET",
            "orderUrl",
            "/orders",
            test=status(200)
            + PAGE
            + """
pm.test("just its order", () => pm.expect(pm.response.json().results.map((o) => o.id)).to.eql([pm.collectionVariables.get("oldClientOrderId")]));
""",
        ),
        request(
            "Old client: GET /orders/{id}/status (cookie only)",
            "GET",
            "orderUrl",
            "/orders/{{oldClientOrderId}}/status",
            test=status(200) + order_status("payment_pending", "payment pending"),
        ),
        request(
            "Old client: cancel its order (cookie only)",
            "POST",
            "orderUrl",
            "/orders/{{oldClientOrderId}}/cancel",
            test=status(200)
            + """
pm.test("cancelled", () => pm.expect(pm.response.json().status).to.eql("cancelled"));
""",
        ),
    ]


def signing_out() -> list[dict]:
    """The old GET logout, after which the client is anonymous."""
    return [
        request(
            "Old client: GET /users/logout (cookie only)",
            "GET",
            "userUrl",
            "/users/logout",
            test=status(200)
            + """
pm.test("the cookie is cleared", () => pm.expect(pm.cookies.has("userAuthToken")).to.be.false);
""",
        ),
        request(
            "Old client: after logout it is anonymous (401)",
            "GET",
            "orderUrl",
            "/orders",
            test=error(401),
        ),
    ]


def old_clients_folder() -> dict:
    return folder(
        "Old clients (cookie only)",
        "The old Node.js system's calls as its clients made them: no Authorization header, only "
        "the userAuthToken cookie that login sets (cookies are per host: every service shares "
        "one host, locally 127.0.0.1 and behind the ingress its host name).",
        [*signing_in(), *shopping(), *signing_out()],
    )
