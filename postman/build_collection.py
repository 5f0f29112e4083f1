"""Write ecommerce.postman_collection.json: every public route, in an order that runs green.

The collection is generated so that its test scripts stay readable and consistent (one helper
per kind of assertion instead of hand-copied JavaScript). Edit this file and run

    python3 postman/build_collection.py

then commit both files. ``--check`` exits 1 when the JSON on disk is not what this file writes.

The run is self-contained: it registers its own users (unique per run), lists its own products,
and needs only the admin login from the environment. Requests run in the order below; the flow
carries tokens and ids in collection variables. Folders: Users, Products, Orders, Old clients
(cookie only: the old Node.js system's calls as its clients made them), Health & docs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "ecommerce.postman_collection.json"
SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
PASSWORD = "Postman-S3cure-passw0rd!"
NEW_PASSWORD = "Postman-N3w-passw0rd!"
UNKNOWN_PRODUCT_ID = "0000000000000000000000aa"
UNKNOWN_ORDER_ID = "00000000-0000-4000-8000-000000000000"
POLL_TRIES = 60
POLL_DELAY_MS = 500


# --- JavaScript snippets ---------------------------------------------------------------------


def js(text: str) -> list[str]:
    return text.strip("\n").split("\n")


def status(code: int) -> str:
    return f'pm.test("status is {code}", () => pm.response.to.have.status({code}));'


def error(code: int, error_code: str | None = None, *fields: str) -> str:
    """A 4xx in the shared error format ``{message, code, errors}``."""
    lines = [
        status(code),
        'pm.test("error body is {message, code, errors}", () => {',
        "    const body = pm.response.json();",
        '    pm.expect(body.message, "message").to.be.a("string").and.not.empty;',
        '    pm.expect(body.code, "code").to.be.a("string").and.not.empty;',
        '    pm.expect(body.errors, "errors").to.be.an("object");',
        "});",
    ]
    if error_code:
        lines.append(
            f'pm.test("code is {error_code}", () => '
            f'pm.expect(pm.response.json().code).to.eql("{error_code}"));'
        )
    for field in fields:
        lines.append(
            f'pm.test("errors names {field}", () => '
            f'pm.expect(pm.response.json().errors).to.have.property("{field}"));'
        )
    return "\n".join(lines)


PAGE = """
pm.test("a page: {count, next, previous, results}", () => {
    const body = pm.response.json();
    pm.expect(body).to.include.all.keys("count", "next", "previous", "results");
    pm.expect(body.count).to.be.a("number");
    pm.expect(body.results).to.be.an("array");
});
"""

USER_FIELDS = '["id", "firstName", "lastName", "email", "role", "createdAt"]'
PRODUCT_FIELDS = (
    '["id", "title", "description", "price", "category", "quantity", "imageUrl", "tags", '
    '"seller", "rating", "reviewCount", "createdAt", "updatedAt"]'
)
ORDER_FIELDS = (
    '["id", "userId", "items", "totalAmount", "status", "statusLabel", "createdAt", "updatedAt"]'
)


def user_shape(expr: str = "pm.response.json()") -> str:
    return f"""
pm.test("a user representation, never the password", () => {{
    const user = {expr};
    pm.expect(user).to.include.all.keys({USER_FIELDS});
    pm.expect(user.id).to.be.a("string");
    pm.expect(JSON.stringify(user).toLowerCase()).not.to.include("password");
}});
"""


def product_shape(expr: str = "pm.response.json()") -> str:
    return f"""
pm.test("a product representation", () => {{
    const product = {expr};
    pm.expect(product).to.include.all.keys({PRODUCT_FIELDS});
    pm.expect(product.id).to.match(/^[0-9a-f]{{24}}$/);
    pm.expect(product.price).to.be.a("number");
    pm.expect(product.quantity).to.be.a("number");
    pm.expect(product.tags).to.be.an("array");
}});
"""


def order_shape(expr: str = "pm.response.json()") -> str:
    return f"""
pm.test("an order representation", () => {{
    const order = {expr};
    pm.expect(order).to.include.all.keys({ORDER_FIELDS});
    pm.expect(order.totalAmount).to.be.a("number");
    pm.expect(order.items).to.be.an("array").and.not.empty;
    order.items.forEach((item) =>
        pm.expect(item).to.include.all.keys(["productId", "title", "unitPrice", "quantity"]));
}});
"""


def order_status(status_name: str, label: str) -> str:
    return f"""
pm.test("order status is {status_name} ({label})", () => {{
    const body = pm.response.json();
    pm.expect(body.orderStatus.status).to.eql("{status_name}");
    pm.expect(body.orderStatus.label).to.eql("{label}");
    pm.expect(body.orderStatus.createdAt).to.be.a("string");
    pm.expect(body.history).to.be.an("array").and.not.empty;
}});
"""


CLEAR_COOKIES = """
// Cookies are kept per host, and every service shares one host: start without the
// userAuthToken cookie an earlier login left, so this request carries no credentials.
pm.cookies.jar().clear(pm.variables.replaceIn(pm.request.url.toString()), (err) => {
    if (err) { console.error("cannot clear cookies (in the Postman app, allow this domain in Cookies > Domains allowlist):", err); }
});
"""

DIRECT_ONLY = """
// Health, readiness, docs, admin and /internal are not routed by the ingress: only direct runs.
if (pm.environment.get("viaIngress") === "true") { pm.execution.skipRequest(); }
"""


def poll(var: str, done: str, then: str, *, tries: int = POLL_TRIES) -> tuple[str, str]:
    """(pre-request, test) scripts re-running this request until ``done`` (JS) holds.

    Bounded: at most ``tries`` runs, ``POLL_DELAY_MS`` apart; the counter lives in the collection
    variable ``var`` and is reset when the wait ends, whichever way it ends.
    """
    pre = f"""
if (Number(pm.collectionVariables.get("{var}") || 0) > 0) {{ setTimeout(() => {{}}, {POLL_DELAY_MS}); }}
"""
    test = f"""
const attempt = Number(pm.collectionVariables.get("{var}") || 0);
const done = (() => {{ try {{ return {done}; }} catch (e) {{ return false; }} }})();
if (!done && attempt + 1 < {tries}) {{
    pm.collectionVariables.set("{var}", attempt + 1);
    pm.execution.setNextRequest(pm.info.requestName);
    return;
}}
pm.collectionVariables.set("{var}", 0);
pm.test("reached within {tries} tries ({tries * POLL_DELAY_MS // 1000} s)", () => pm.expect(done, "waited " + (attempt + 1) + " times; last body: " + pm.response.text()).to.be.true);
{then}
"""
    return pre, test


# --- requests --------------------------------------------------------------------------------


def url(base: str, path: str, query: dict[str, str] | None = None) -> dict:
    segments = [s for s in path.strip("/").split("/") if s]
    raw = "{{" + base + "}}" + path
    result: dict = {"raw": raw, "host": ["{{" + base + "}}"], "path": segments}
    if path.endswith("/"):
        result["path"] = [*segments, ""]
    if query:
        result["raw"] += "?" + "&".join(f"{k}={v}" for k, v in query.items())
        result["query"] = [{"key": k, "value": v} for k, v in query.items()]
    return result


def request(
    name: str,
    method: str,
    base: str,
    path: str,
    *,
    token: str | None = None,
    body: object = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    test: str = "",
    pre: str = "",
    description: str = "",
) -> dict:
    req: dict = {
        "method": method,
        "header": [],
        "url": url(base, path, query),
    }
    if description:
        req["description"] = description
    if token:
        req["auth"] = {
            "type": "bearer",
            "bearer": [{"key": "token", "value": "{{" + token + "}}", "type": "string"}],
        }
    else:
        req["auth"] = {"type": "noauth"}
    for key, value in (headers or {}).items():
        req["header"].append({"key": key, "value": value})
    if body is not None:
        req["header"].append({"key": "Content-Type", "value": "application/json"})
        req["body"] = {
            "mode": "raw",
            "raw": body if isinstance(body, str) else json.dumps(body, indent=2),
            "options": {"raw": {"language": "json"}},
        }
    item: dict = {"name": name, "request": req, "event": []}
    if pre:
        item["event"].append(
            {"listen": "prerequest", "script": {"type": "text/javascript", "exec": js(pre)}}
        )
    if test:
        item["event"].append(
            {"listen": "test", "script": {"type": "text/javascript", "exec": js(test)}}
        )
    item["response"] = []
    return item


def folder(name: str, description: str, items: list[dict]) -> dict:
    return {"name": name, "description": description, "item": items}


# --- Users -----------------------------------------------------------------------------------


def register(who: str, first: str, last: str) -> dict:
    return request(
        f"Register the {who}",
        "POST",
        "userUrl",
        "/users/register",
        body={
            "firstName": first,
            "lastName": last,
            "email": "{{" + who + "Email}}",
            "password": "{{password}}",
        },
        pre=f"""
if (!pm.collectionVariables.get("runId")) {{
    const guid = pm.variables.replaceIn("{{{{$guid}}}}").slice(0, 8);
    pm.collectionVariables.set("runId", pm.variables.replaceIn("{{{{$timestamp}}}}") + "-" + guid);
}}
pm.collectionVariables.set("password", "{PASSWORD}");
pm.collectionVariables.set("{who}Email", "{who}-" + pm.collectionVariables.get("runId") + "@example.com");
""",
        test=status(201)
        + user_shape("pm.response.json().user")
        + f"""
const body = pm.response.json();
pm.test("message and the new user (role user, email as given)", () => {{
    pm.expect(body.message).to.be.a("string").and.not.empty;
    pm.expect(body.user.email).to.eql(pm.collectionVariables.get("{who}Email"));
    pm.expect(body.user.firstName).to.eql("{first}");
    pm.expect(body.user.role).to.eql("user");
}});
pm.collectionVariables.set("{who}Id", body.user.id);
""",
    )


def login(
    who: str, *, email: str, password: str, token_var: str, refresh_var: str, check: str = ""
) -> dict:
    return request(
        f"Log in as the {who}",
        "POST",
        "userUrl",
        "/users/login",
        body={"email": email, "password": password},
        test=check
        + status(200)
        + f"""
const body = pm.response.json();
pm.test("message, token (access) and refresh", () => {{
    pm.expect(body.message).to.be.a("string");
    pm.expect(body.token).to.be.a("string").and.not.empty;
    pm.expect(body.refresh).to.be.a("string").and.not.empty;
}});
pm.test("sets the userAuthToken cookie to the access token", () => {{
    pm.expect(pm.cookies.has("userAuthToken"), "userAuthToken cookie").to.be.true;
    pm.expect(pm.cookies.get("userAuthToken")).to.eql(body.token);
}});
pm.test("the cookie is httpOnly", () => {{
    const header = pm.response.headers.all()
        .filter((h) => h.key.toLowerCase() === "set-cookie" && h.value.startsWith("userAuthToken="))
        .map((h) => h.value).join("; ");
    pm.expect(header.toLowerCase()).to.include("httponly");
}});
pm.collectionVariables.set("{token_var}", body.token);
pm.collectionVariables.set("{refresh_var}", body.refresh);
""",
    )


def users_folder() -> dict:
    items = [
        register("seller", "Grace", "Hopper"),
        register("buyer", "Ada", "Lovelace"),
        register("stranger", "Alan", "Turing"),
        request(
            "Register with a taken email is 400",
            "POST",
            "userUrl",
            "/users/register",
            body={
                "firstName": "Grace",
                "lastName": "Again",
                "email": "{{sellerEmail}}",
                "password": "{{password}}",
            },
            test=error(400, None, "email"),
        ),
        request(
            "Register with a weak password is 400",
            "POST",
            "userUrl",
            "/users/register",
            body={
                "firstName": "Weak",
                "lastName": "Password",
                "email": "weak-{{runId}}@example.com",
                "password": "12345678",
            },
            test=error(400, None, "password"),
        ),
        request(
            "Register without required fields is 400",
            "POST",
            "userUrl",
            "/users/register",
            body={"email": "incomplete-{{runId}}@example.com"},
            test=error(400, None, "firstName", "lastName", "password"),
        ),
        login(
            "seller",
            email="{{sellerEmail}}",
            password="{{password}}",
            token_var="sellerToken",
            refresh_var="sellerRefresh",
        ),
        request(
            "Log in with a wrong password is 401",
            "POST",
            "userUrl",
            "/users/login",
            body={"email": "{{sellerEmail}}", "password": "not-the-password"},
            test=error(401),
        ),
        login(
            "buyer",
            email="{{buyerEmail}}",
            password="{{password}}",
            token_var="buyerToken",
            refresh_var="buyerRefresh",
        ),
        login(
            "stranger",
            email="{{strangerEmail}}",
            password="{{password}}",
            token_var="strangerToken",
            refresh_var="strangerRefresh",
        ),
        login(
            "admin",
            email="{{adminEmail}}",
            password="{{adminPassword}}",
            token_var="adminToken",
            refresh_var="adminRefresh",
            check="""
pm.test("adminPassword is set in the environment (./manage_all.sh up prints it)", () => pm.expect(pm.environment.get("adminPassword") || pm.variables.get("adminPassword")).to.be.a("string").and.not.empty);
""",
        ),
        request(
            "Me (the seller)",
            "GET",
            "userUrl",
            "/users/me",
            token="sellerToken",
            test=status(200)
            + user_shape()
            + """
pm.test("is the seller", () => {
    const me = pm.response.json();
    pm.expect(me.id).to.eql(pm.collectionVariables.get("sellerId"));
    pm.expect(me.email).to.eql(pm.collectionVariables.get("sellerEmail"));
});
""",
        ),
        request(
            "Me (the admin) has role admin",
            "GET",
            "userUrl",
            "/users/me",
            token="adminToken",
            test=status(200)
            + """
pm.test("role is admin", () => pm.expect(pm.response.json().role).to.eql("admin"));
""",
        ),
        request(
            "Me without a token is 401",
            "GET",
            "userUrl",
            "/users/me",
            pre=CLEAR_COOKIES,
            test=error(401),
        ),
        request(
            "Update me (PATCH)",
            "PATCH",
            "userUrl",
            "/users/me",
            token="sellerToken",
            body={"firstName": "Grace Brewster", "lastName": "Hopper"},
            test=status(200)
            + user_shape()
            + """
pm.test("names updated", () => {
    pm.expect(pm.response.json().firstName).to.eql("Grace Brewster");
    pm.expect(pm.response.json().role).to.eql("user");
});
""",
        ),
        request(
            "Update me cannot make me an admin (400)",
            "PATCH",
            "userUrl",
            "/users/me",
            token="sellerToken",
            body={"role": "admin"},
            test=error(400, None, "role"),
        ),
        request(
            "Refresh the token pair",
            "POST",
            "userUrl",
            "/users/token/refresh",
            body={"refresh": "{{sellerRefresh}}"},
            test=status(200)
            + """
const body = pm.response.json();
pm.test("a new pair; the refresh token rotated", () => {
    pm.expect(body.token).to.be.a("string").and.not.empty;
    pm.expect(body.refresh).to.be.a("string").and.not.eql(pm.collectionVariables.get("sellerRefresh"));
});
pm.collectionVariables.set("rotatedRefresh", pm.collectionVariables.get("sellerRefresh"));
pm.collectionVariables.set("sellerToken", body.token);
pm.collectionVariables.set("sellerRefresh", body.refresh);
""",
        ),
        request(
            "Reusing the rotated (old) refresh token is 401 and ends that session",
            "POST",
            "userUrl",
            "/users/token/refresh",
            body={"refresh": "{{rotatedRefresh}}"},
            test=error(401, "refresh_token_not_valid"),
        ),
        request(
            "After the reuse the session's newest refresh token is 401 too",
            "POST",
            "userUrl",
            "/users/token/refresh",
            body={"refresh": "{{sellerRefresh}}"},
            test=error(401),
        ),
        request(
            "After the reuse the session's newest access token is 401 too",
            "GET",
            "userUrl",
            "/users/me",
            token="sellerToken",
            pre=CLEAR_COOKIES,
            test=error(401),
        ),
        login(
            "seller anew (the reuse ended the first session)",
            email="{{sellerEmail}}",
            password="{{password}}",
            token_var="sellerToken",
            refresh_var="sellerRefresh",
        ),
        request(
            "Refresh with garbage is 401",
            "POST",
            "userUrl",
            "/users/token/refresh",
            body={"refresh": "not-a-token"},
            test=error(401),
        ),
        login(
            "seller again (a second session, to log out)",
            email="{{sellerEmail}}",
            password="{{password}}",
            token_var="sessionToken",
            refresh_var="sessionRefresh",
        ),
        request(
            "Log out with another user's refresh token is 400",
            "POST",
            "userUrl",
            "/users/logout",
            token="sessionToken",
            body={"refresh": "{{buyerRefresh}}"},
            test=error(400, None, "refresh"),
        ),
        request(
            "Log out (POST, revokes the refresh token, clears the cookie)",
            "POST",
            "userUrl",
            "/users/logout",
            token="sessionToken",
            body={"refresh": "{{sessionRefresh}}"},
            test=status(200)
            + """
pm.test("message", () => pm.expect(pm.response.json().message).to.be.a("string"));
pm.test("clears the userAuthToken cookie", () => {
    const header = pm.response.headers.all()
        .filter((h) => h.key.toLowerCase() === "set-cookie" && h.value.startsWith("userAuthToken="))
        .map((h) => h.value).join("; ");
    pm.expect(header, "a Set-Cookie for userAuthToken").not.to.be.empty;
    pm.expect(pm.cookies.has("userAuthToken"), "cookie still in the jar").to.be.false;
});
""",
        ),
        request(
            "Refresh with the logged-out refresh token is 401",
            "POST",
            "userUrl",
            "/users/token/refresh",
            body={"refresh": "{{sessionRefresh}}"},
            test=error(401),
        ),
        request(
            "Me with the logged-out access token is 401",
            "GET",
            "userUrl",
            "/users/me",
            token="sessionToken",
            pre=CLEAR_COOKIES,
            test=error(401),
        ),
        request(
            "Logging out one session leaves the others (buyer's refresh still works)",
            "POST",
            "userUrl",
            "/users/token/refresh",
            body={"refresh": "{{buyerRefresh}}"},
            test=status(200)
            + """
pm.collectionVariables.set("buyerToken", pm.response.json().token);
pm.collectionVariables.set("buyerRefresh", pm.response.json().refresh);
""",
        ),
        request(
            "Me (the seller's main session) still works",
            "GET",
            "userUrl",
            "/users/me",
            token="sellerToken",
            test=status(200),
        ),
        login(
            "seller once more (a third session, for the old GET logout)",
            email="{{sellerEmail}}",
            password="{{password}}",
            token_var="sessionToken",
            refresh_var="sessionRefresh",
        ),
        request(
            "Log out (GET, as old clients do)",
            "GET",
            "userUrl",
            "/users/logout",
            token="sessionToken",
            test=status(200)
            + """
pm.test("message", () => pm.expect(pm.response.json().message).to.be.a("string"));
pm.test("the cookie is gone", () => pm.expect(pm.cookies.has("userAuthToken")).to.be.false);
""",
        ),
        request(
            "Me with that token still works: the GET only cleared the cookie",
            "GET",
            "userUrl",
            "/users/me",
            token="sessionToken",
            test=status(200),
        ),
        request(
            "Log out that session (POST revokes)",
            "POST",
            "userUrl",
            "/users/logout",
            token="sessionToken",
            body={"refresh": "{{sessionRefresh}}"},
            test=status(200),
        ),
        request(
            "Me with the POST-logged-out token is 401",
            "GET",
            "userUrl",
            "/users/me",
            token="sessionToken",
            test=error(401),
        ),
        request(
            "Change password with a wrong current password is 400",
            "POST",
            "userUrl",
            "/users/me/password",
            token="strangerToken",
            body={"currentPassword": "not-the-password", "newPassword": NEW_PASSWORD},
            test=error(400, "wrong_password", "currentPassword"),
        ),
        request(
            "Change the stranger's password (ends their sessions, answers a new pair)",
            "POST",
            "userUrl",
            "/users/me/password",
            token="strangerToken",
            body={"currentPassword": "{{password}}", "newPassword": "{{newPassword}}"},
            pre=f'pm.collectionVariables.set("newPassword", "{NEW_PASSWORD}");',
            test=status(200)
            + """
const body = pm.response.json();
pm.test("message, token (access) and refresh", () => {
    pm.expect(body.message).to.be.a("string");
    pm.expect(body.token).to.be.a("string").and.not.eql(pm.collectionVariables.get("strangerToken"));
    pm.expect(body.refresh).to.be.a("string").and.not.empty;
});
pm.test("sets the userAuthToken cookie to the new access token", () => {
    pm.expect(pm.cookies.get("userAuthToken")).to.eql(body.token);
});
pm.collectionVariables.set("revokedToken", pm.collectionVariables.get("strangerToken"));
pm.collectionVariables.set("revokedRefresh", pm.collectionVariables.get("strangerRefresh"));
pm.collectionVariables.set("strangerToken", body.token);
pm.collectionVariables.set("strangerRefresh", body.refresh);
""",
        ),
        request(
            "Me with the access token from before the password change is 401",
            "GET",
            "userUrl",
            "/users/me",
            token="revokedToken",
            pre=CLEAR_COOKIES,
            test=error(401),
        ),
        request(
            "Refresh with the refresh token from before the password change is 401",
            "POST",
            "userUrl",
            "/users/token/refresh",
            body={"refresh": "{{revokedRefresh}}"},
            test=error(401),
        ),
        request(
            "Me with the pair the password change answered",
            "GET",
            "userUrl",
            "/users/me",
            token="strangerToken",
            test=status(200),
        ),
        login(
            "stranger with the new password",
            email="{{strangerEmail}}",
            password="{{newPassword}}",
            token_var="strangerToken",
            refresh_var="strangerRefresh",
        ),
    ]
    return folder(
        "Users",
        "user_service: register, login (token and the userAuthToken cookie), refresh with "
        "rotation (reusing a rotated refresh token ends that session), me, password change "
        "(ends the user's sessions, answers a new pair), logout (POST and the old GET). "
        "Registers three users unique to the run: seller, buyer and stranger; logs in the admin "
        "from the environment.",
        items,
    )


# --- Products --------------------------------------------------------------------------------

PRODUCT_BODY = {
    "title": "Postman headphones {{runId}}",
    "description": "Over-ear, noise-cancelling, 30 h battery.",
    "price": 29.99,
    "category": "Electronics",
    "quantity": 10,
    "imageUrl": "https://example.com/images/headphones.png",
    "tags": ["audio", "postman-{{runId}}"],
}


def products_folder() -> dict:
    items = [
        request(
            "List products (public, paginated)",
            "GET",
            "productUrl",
            "/product/",
            test=status(200) + PAGE,
        ),
        request(
            "Create a product without a token is 401",
            "POST",
            "productUrl",
            "/product/",
            body=PRODUCT_BODY,
            pre=CLEAR_COOKIES,
            test=error(401),
        ),
        request(
            "Create a product",
            "POST",
            "productUrl",
            "/product/",
            token="sellerToken",
            body=PRODUCT_BODY,
            test=status(201)
            + product_shape()
            + """
const product = pm.response.json();
pm.test("as sent, sold by the caller, no reviews yet", () => {
    pm.expect(product.title).to.eql(pm.variables.replaceIn("Postman headphones {{runId}}"));
    pm.expect(product.price).to.eql(29.99);
    pm.expect(product.category).to.eql("Electronics");
    pm.expect(product.quantity).to.eql(10);
    pm.expect(product.tags).to.eql(["audio", pm.variables.replaceIn("postman-{{runId}}")]);
    pm.expect(product.seller).to.eql(pm.collectionVariables.get("sellerId"));
    pm.expect(product.reviewCount).to.eql(0);
});
pm.collectionVariables.set("productId", product.id);
pm.collectionVariables.set("productTitle", product.title);
pm.collectionVariables.set("productPrice", product.price);
""",
        ),
        request(
            "Create a product the old way (POST /product/create)",
            "POST",
            "productUrl",
            "/product/create",
            token="sellerToken",
            body={
                "title": "Old style mug {{runId}}",
                "description": "created with the old client's body",
                "price": 9.5,
                "category": "Home & Kitchen",
                "quantity": 3,
                "imageUrl": "image",
                "tags": "tags",
            },
            test=status(201)
            + product_shape()
            + """
const product = pm.response.json();
pm.test("a single tag string becomes a one-element list; any imageUrl", () => {
    pm.expect(product.tags).to.eql(["tags"]);
    pm.expect(product.imageUrl).to.eql("image");
});
pm.collectionVariables.set("legacyProductId", product.id);
""",
        ),
        request(
            "Create a product with bad fields is 400",
            "POST",
            "productUrl",
            "/product/",
            token="sellerToken",
            body={
                "title": "Bad product",
                "description": "",
                "price": -1,
                "category": "Toys",
                "quantity": 1.5,
                "imageUrl": "",
                "tags": [1, 2],
            },
            test=error(400, None, "price", "category", "quantity", "imageUrl"),
        ),
        request(
            "Get the product",
            "GET",
            "productUrl",
            "/product/{{productId}}",
            test=status(200)
            + product_shape()
            + """
pm.test("is the product", () => pm.expect(pm.response.json().id).to.eql(pm.collectionVariables.get("productId")));
""",
        ),
        request(
            "Get a malformed product id is 404",
            "GET",
            "productUrl",
            "/product/not-an-object-id",
            test=error(404),
        ),
        request(
            "Get an unknown product is 404",
            "GET",
            "productUrl",
            f"/product/{UNKNOWN_PRODUCT_ID}",
            test=error(404),
        ),
        request(
            "List products with every filter",
            "GET",
            "productUrl",
            "/product/",
            query={
                "category": "Electronics",
                "seller": "{{sellerId}}",
                "tags": "postman-{{runId}},nothing-else",
                "minPrice": "10",
                "maxPrice": "100",
                "search": "headphones {{runId}}",
                "ordering": "-price",
                "page": "1",
                "pageSize": "10",
            },
            test=status(200)
            + PAGE
            + """
pm.test("finds exactly the product", () => {
    const ids = pm.response.json().results.map((p) => p.id);
    pm.expect(ids).to.eql([pm.collectionVariables.get("productId")]);
});
""",
        ),
        request(
            "List products one per page (next link)",
            "GET",
            "productUrl",
            "/product/",
            query={"seller": "{{sellerId}}", "pageSize": "1", "ordering": "title"},
            test=status(200)
            + PAGE
            + """
pm.test("two products, one per page, a next page", () => {
    const body = pm.response.json();
    pm.expect(body.count).to.eql(2);
    pm.expect(body.results).to.have.lengthOf(1);
    pm.expect(body.next).to.be.a("string").and.include("page=2");
    pm.expect(body.previous).to.eql(null);
});
""",
        ),
        request(
            "List products by category excludes others",
            "GET",
            "productUrl",
            "/product/",
            query={"category": "Books", "seller": "{{sellerId}}"},
            test=status(200)
            + PAGE
            + """
pm.test("none of this run's products is a book", () => pm.expect(pm.response.json().count).to.eql(0));
""",
        ),
        request(
            "List products with minPrice above maxPrice is 400",
            "GET",
            "productUrl",
            "/product/",
            query={"minPrice": "50", "maxPrice": "10"},
            test=error(400),
        ),
        request(
            'Old list by id (GET /product/list?filter={"id": ...})',
            "GET",
            "productUrl",
            "/product/list",
            query={"filter": '{"id":"{{productId}}"}'},
            test=status(200)
            + """
pm.test("a plain array with just the product", () => {
    const body = pm.response.json();
    pm.expect(body).to.be.an("array");
    pm.expect(body.map((p) => p.id)).to.eql([pm.collectionVariables.get("productId")]);
});
""",
        ),
        request(
            "Old list by title",
            "GET",
            "productUrl",
            "/product/list",
            query={"filter": '{"title":"{{productTitle}}"}'},
            test=status(200)
            + """
pm.test("a plain array with the product", () => {
    const body = pm.response.json();
    pm.expect(body).to.be.an("array");
    pm.expect(body.map((p) => p.id)).to.eql([pm.collectionVariables.get("productId")]);
});
""",
        ),
        request(
            "Old list by category",
            "GET",
            "productUrl",
            "/product/list",
            query={"filter": '{"category":"Home & Kitchen"}'},
            test=status(200)
            + """
pm.test("a plain array of that category, including the old-style product", () => {
    const body = pm.response.json();
    pm.expect(body).to.be.an("array");
    body.forEach((p) => pm.expect(p.category).to.eql("Home & Kitchen"));
    pm.expect(body.map((p) => p.id)).to.include(pm.collectionVariables.get("legacyProductId"));
});
""",
        ),
        request(
            "Old list without a filter is a plain array",
            "GET",
            "productUrl",
            "/product/list",
            test=status(200)
            + """
pm.test("a plain array", () => pm.expect(pm.response.json()).to.be.an("array").and.not.empty);
""",
        ),
        request(
            "Old list with operator injection ($ne) is 400",
            "GET",
            "productUrl",
            "/product/list",
            query={"filter": '{"id":{"$ne":null}}'},
            test=error(400),
        ),
        request(
            "Old list with an unknown filter key is 400",
            "GET",
            "productUrl",
            "/product/list",
            query={"filter": '{"seller":"{{sellerId}}"}'},
            test=error(400),
        ),
        request(
            "Old list with a filter that is not JSON is 400",
            "GET",
            "productUrl",
            "/product/list",
            query={"filter": "{id:"},
            test=error(400),
        ),
        request(
            "Change the product (PATCH, the seller)",
            "PATCH",
            "productUrl",
            "/product/{{productId}}",
            token="sellerToken",
            body={"price": 24.5, "description": "Over-ear, noise-cancelling, 35 h battery."},
            test=status(200)
            + product_shape()
            + """
pm.test("price and description changed", () => {
    pm.expect(pm.response.json().price).to.eql(24.5);
    pm.expect(pm.response.json().description).to.include("35 h");
});
pm.collectionVariables.set("productPrice", pm.response.json().price);
""",
        ),
        request(
            "Change someone else's product is 404 (as if it did not exist)",
            "PATCH",
            "productUrl",
            "/product/{{productId}}",
            token="buyerToken",
            body={"price": 0.01},
            test=error(404),
        ),
        request(
            "Replace the product (PUT, the seller)",
            "PUT",
            "productUrl",
            "/product/{{productId}}",
            token="sellerToken",
            body={
                **PRODUCT_BODY,
                "price": 24.5,
                "description": "Over-ear, noise-cancelling, 35 h battery, USB-C.",
            },
            test=status(200)
            + product_shape()
            + """
pm.test("replaced", () => {
    const product = pm.response.json();
    pm.expect(product.price).to.eql(24.5);
    pm.expect(product.description).to.include("USB-C");
    pm.expect(product.quantity).to.eql(10);
});
""",
        ),
        request(
            "Available quantity",
            "GET",
            "productUrl",
            "/product/{{productId}}/quantity",
            test=status(200)
            + """
pm.test("{quantity: 10}", () => pm.expect(pm.response.json()).to.eql({ quantity: 10 }));
""",
        ),
        request(
            "Review the product (the buyer)",
            "POST",
            "productUrl",
            "/product/{{productId}}/reviews",
            token="buyerToken",
            body={"rating": 5, "title": "Quiet at last", "description": "Great noise cancelling."},
            test=status(201)
            + """
pm.test("the review, by the caller", () => {
    const review = pm.response.json();
    pm.expect(review.rating).to.eql(5);
    pm.expect(review.title).to.eql("Quiet at last");
    pm.expect(review.userId).to.eql(pm.collectionVariables.get("buyerId"));
});
""",
        ),
        request(
            "The seller reviewing their own product is 403",
            "POST",
            "productUrl",
            "/product/{{productId}}/reviews",
            token="sellerToken",
            body={"rating": 5, "title": "Mine is great", "description": "Trust me."},
            test=error(403, "own_product_review"),
        ),
        request(
            "Review the same product twice is 409",
            "POST",
            "productUrl",
            "/product/{{productId}}/reviews",
            token="buyerToken",
            body={"rating": 1, "title": "Changed my mind", "description": "Twice."},
            test=error(409, "duplicate_review"),
        ),
        request(
            "Review with a rating of 6 is 400",
            "POST",
            "productUrl",
            "/product/{{productId}}/reviews",
            token="strangerToken",
            body={"rating": 6, "title": "Too good", "description": "Off the scale."},
            test=error(400, None, "rating"),
        ),
        request(
            "Review without a token is 401",
            "POST",
            "productUrl",
            "/product/{{productId}}/reviews",
            pre=CLEAR_COOKIES,
            body={"rating": 3, "title": "Anonymous", "description": "Who am I?"},
            test=error(401),
        ),
        request(
            "Review the product (the stranger)",
            "POST",
            "productUrl",
            "/product/{{productId}}/reviews",
            token="strangerToken",
            body={"rating": 4, "title": "Good", "description": "A bit tight."},
            test=status(201),
        ),
        request(
            "List the product's reviews",
            "GET",
            "productUrl",
            "/product/{{productId}}/reviews",
            test=status(200)
            + PAGE
            + """
pm.test("both reviews", () => {
    const ratings = pm.response.json().results.map((r) => r.rating).sort();
    pm.expect(ratings).to.eql([4, 5]);
});
""",
        ),
        request(
            "The product shows its rating and review count",
            "GET",
            "productUrl",
            "/product/{{productId}}",
            test=status(200)
            + """
pm.test("rating 4.5 from 2 reviews", () => {
    pm.expect(pm.response.json().rating).to.eql(4.5);
    pm.expect(pm.response.json().reviewCount).to.eql(2);
});
""",
        ),
        request(
            "Delete someone else's product is 404",
            "DELETE",
            "productUrl",
            "/product/{{legacyProductId}}",
            token="buyerToken",
            test=error(404),
        ),
        request(
            "Delete a product (the seller)",
            "DELETE",
            "productUrl",
            "/product/{{legacyProductId}}",
            token="sellerToken",
            test="""
pm.test("status is 204", () => pm.response.to.have.status(204));
""",
        ),
        request(
            "The deleted product is 404",
            "GET",
            "productUrl",
            "/product/{{legacyProductId}}",
            test=error(404),
        ),
    ]
    return folder(
        "Products",
        "product_service: the catalogue (paginated list with filters, the old /product/list and "
        "/product/create), change and delete by the seller only, available quantity, reviews.",
        items,
    )


# --- Orders ----------------------------------------------------------------------------------


def order_create(name: str, quantity: int, var: str, *, key: bool = False) -> dict:
    headers = {"Idempotency-Key": "{{idempotencyKey}}"} if key else None
    pre = (
        'pm.collectionVariables.set("idempotencyKey", pm.variables.replaceIn("{{$guid}}"));'
        if key
        else ""
    )
    return request(
        name,
        "POST",
        "orderUrl",
        "/orders",
        token="buyerToken",
        headers=headers,
        pre=pre,
        body={"items": [{"productId": "{{productId}}", "quantity": quantity}]},
        test=status(201)
        + order_shape()
        + f"""
const order = pm.response.json();
const price = Number(pm.collectionVariables.get("productPrice"));
pm.test("payment_pending, the buyer's, priced by the catalogue", () => {{
    pm.expect(order.status).to.eql("payment_pending");
    pm.expect(order.statusLabel).to.eql("payment pending");
    pm.expect(order.userId).to.eql(pm.collectionVariables.get("buyerId"));
    pm.expect(order.items).to.have.lengthOf(1);
    pm.expect(order.items[0].productId).to.eql(pm.collectionVariables.get("productId"));
    pm.expect(order.items[0].title).to.eql(pm.collectionVariables.get("productTitle"));
    pm.expect(order.items[0].unitPrice).to.eql(price);
    pm.expect(order.items[0].quantity).to.eql({quantity});
    pm.expect(order.totalAmount).to.be.closeTo({quantity} * price, 0.001);
}});
pm.collectionVariables.set("{var}", order.id);
""",
    )


def quantity_is(name: str, expected: int, *, wait: bool = False) -> dict:
    if not wait:
        return request(
            name,
            "GET",
            "productUrl",
            "/product/{{productId}}/quantity",
            test=status(200)
            + f"""
pm.test("available is {expected}", () => pm.expect(pm.response.json().quantity).to.eql({expected}));
""",
        )
    pre, test = poll("pollCount", f"pm.response.json().quantity === {expected}", status(200))
    return request(name, "GET", "productUrl", "/product/{{productId}}/quantity", pre=pre, test=test)


def orders_folder() -> dict:
    confirmed_pre, confirmed_test = poll(
        "pollCount",
        'pm.response.json().orderStatus.status === "confirmed"',
        status(200)
        + order_status("confirmed", "order confirmed")
        + """
pm.test("history: payment_pending → paid → confirmed", () => {
    const history = pm.response.json().history;
    pm.expect(history.map((h) => h.to)).to.eql(["payment_pending", "paid", "confirmed"]);
    history.forEach((h) => pm.expect(h).to.include.all.keys("from", "to", "reason", "createdAt"));
});
""",
    )
    items = [
        request(
            "Place an order without a token is 401",
            "POST",
            "orderUrl",
            "/orders",
            pre=CLEAR_COOKIES,
            body={"items": [{"productId": "{{productId}}", "quantity": 1}]},
            test=error(401),
        ),
        request(
            "Place an order of no items is 400",
            "POST",
            "orderUrl",
            "/orders",
            token="buyerToken",
            body={"items": []},
            test=error(400, None, "items"),
        ),
        request(
            "Place an order of 0 of a product is 400",
            "POST",
            "orderUrl",
            "/orders",
            token="buyerToken",
            body={"items": [{"productId": "{{productId}}", "quantity": 0}]},
            test=error(400, None, "items"),
        ),
        request(
            "Place an order of more units of a product than one order may hold is 409",
            "POST",
            "orderUrl",
            "/orders",
            token="buyerToken",
            body={"items": [{"productId": "{{productId}}", "quantity": 101}]},
            test=error(409, "line_quantity_limit", "items"),
        ),
        request(
            "Place an order of an unknown product is 400",
            "POST",
            "orderUrl",
            "/orders",
            token="buyerToken",
            body={"items": [{"productId": UNKNOWN_PRODUCT_ID, "quantity": 1}]},
            test=error(400, "unknown_product"),
        ),
        request(
            "Place an order of more than is in stock is 409 and reserves nothing",
            "POST",
            "orderUrl",
            "/orders",
            token="buyerToken",
            body={"items": [{"productId": "{{productId}}", "quantity": 11}]},
            test=error(409, "insufficient_stock")
            + """
pm.test("the old system's message", () => pm.expect(pm.response.json().message).to.eql("not sufficient inventory"));
""",
        ),
        quantity_is("Nothing was reserved (10 available)", 10),
        order_create("Place an order (with an Idempotency-Key)", 2, "orderId", key=True),
        request(
            "Replaying the Idempotency-Key returns the first answer",
            "POST",
            "orderUrl",
            "/orders",
            token="buyerToken",
            headers={"Idempotency-Key": "{{idempotencyKey}}"},
            body={"items": [{"productId": "{{productId}}", "quantity": 2}]},
            test=status(201)
            + """
pm.test("the same order", () => pm.expect(pm.response.json().id).to.eql(pm.collectionVariables.get("orderId")));
""",
        ),
        request(
            "Reusing the Idempotency-Key for a different order is 422",
            "POST",
            "orderUrl",
            "/orders",
            token="buyerToken",
            headers={"Idempotency-Key": "{{idempotencyKey}}"},
            body={"items": [{"productId": "{{productId}}", "quantity": 3}]},
            test=error(422, "idempotency_key_reused"),
        ),
        request(
            "Pay the order (tok_visa)",
            "POST",
            "orderUrl",
            "/orders/{{orderId}}/pay",
            token="buyerToken",
            body={"paymentToken": "tok_visa"},
            test=status(200)
            + """
const body = pm.response.json();
pm.test("the order, paid (or already confirmed by the worker)", () => {
    pm.expect(body.id).to.eql(pm.collectionVariables.get("orderId"));
    pm.expect(body.status).to.be.oneOf(["paid", "confirmed"]);
});
pm.test("the payment: approved, for the order's total", () => {
    pm.expect(body.payment).to.include.all.keys("id", "status", "amount", "currency");
    pm.expect(body.payment.status).to.eql("approved");
    pm.expect(body.payment.amount).to.eql(body.totalAmount);
});
""",
        ),
        request(
            "Paying again is 409 already_paid (never charged twice)",
            "POST",
            "orderUrl",
            "/orders/{{orderId}}/pay",
            token="buyerToken",
            body={"paymentToken": "tok_visa"},
            test=error(409, "already_paid"),
        ),
        request(
            "Wait until the order is confirmed (GET /orders/{id}/status)",
            "GET",
            "orderUrl",
            "/orders/{{orderId}}/status",
            token="buyerToken",
            pre=confirmed_pre,
            test=confirmed_test,
        ),
        quantity_is("The confirmed order's stock stays sold (8 available)", 8),
        request(
            "Get the order",
            "GET",
            "orderUrl",
            "/orders/{{orderId}}",
            token="buyerToken",
            test=status(200)
            + order_shape()
            + """
pm.test("confirmed", () => {
    pm.expect(pm.response.json().status).to.eql("confirmed");
    pm.expect(pm.response.json().statusLabel).to.eql("order confirmed");
});
""",
        ),
        request(
            "List my orders",
            "GET",
            "orderUrl",
            "/orders",
            token="buyerToken",
            test=status(200)
            + PAGE
            + """
pm.test("only mine, including the order", () => {
    const results = pm.response.json().results;
    pm.expect(results.map((o) => o.id)).to.include(pm.collectionVariables.get("orderId"));
    results.forEach((o) => pm.expect(o.userId).to.eql(pm.collectionVariables.get("buyerId")));
});
""",
        ),
        request(
            "Another user's order is 404",
            "GET",
            "orderUrl",
            "/orders/{{orderId}}",
            token="strangerToken",
            test=error(404),
        ),
        request(
            "Another user's order status is 404",
            "GET",
            "orderUrl",
            "/orders/{{orderId}}/status",
            token="strangerToken",
            test=error(404),
        ),
        request(
            "Another user cannot cancel it (404)",
            "POST",
            "orderUrl",
            "/orders/{{orderId}}/cancel",
            token="strangerToken",
            test=error(404),
        ),
        request(
            "Another user's list does not show it",
            "GET",
            "orderUrl",
            "/orders",
            token="strangerToken",
            test=status(200)
            + PAGE
            + """
pm.test("not there", () => pm.expect(pm.response.json().results.map((o) => o.id)).not.to.include(pm.collectionVariables.get("orderId")));
""",
        ),
        request(
            "An admin sees the order",
            "GET",
            "orderUrl",
            "/orders/{{orderId}}",
            token="adminToken",
            test=status(200)
            + """
pm.test("the buyer's order", () => pm.expect(pm.response.json().userId).to.eql(pm.collectionVariables.get("buyerId")));
""",
        ),
        request(
            "An admin lists all orders",
            "GET",
            "orderUrl",
            "/orders",
            token="adminToken",
            query={"pageSize": "100"},
            test=status(200)
            + PAGE
            + """
pm.test("includes the buyer's order", () => pm.expect(pm.response.json().results.map((o) => o.id)).to.include(pm.collectionVariables.get("orderId")));
""",
        ),
        request(
            "Cancel a confirmed order is 409",
            "POST",
            "orderUrl",
            "/orders/{{orderId}}/cancel",
            token="buyerToken",
            test=error(409, "illegal_transition"),
        ),
        request(
            "A malformed order id is 404",
            "GET",
            "orderUrl",
            "/orders/not-a-uuid",
            token="buyerToken",
            test=error(404),
        ),
        request(
            "An invalid bearer token is 401",
            "GET",
            "orderUrl",
            "/orders",
            headers={"Authorization": "Bearer not-a-jwt"},
            test=error(401),
        ),
        request(
            "An unknown order is 404",
            "GET",
            "orderUrl",
            f"/orders/{UNKNOWN_ORDER_ID}",
            token="buyerToken",
            test=error(404),
        ),
        # The declined payment.
        order_create("Place an order to be declined", 1, "declinedOrderId"),
        request(
            "Pay with a declined card (tok_chargeDeclined) is 402",
            "POST",
            "orderUrl",
            "/orders/{{declinedOrderId}}/pay",
            token="buyerToken",
            body={"paymentToken": "tok_chargeDeclined"},
            test=error(402, "payment_declined"),
        ),
        request(
            "The declined order is payment_failed",
            "GET",
            "orderUrl",
            "/orders/{{declinedOrderId}}/status",
            token="buyerToken",
            test=status(200)
            + order_status("payment_failed", "payment failed")
            + """
pm.test("history: payment_pending → payment_failed", () => {
    pm.expect(pm.response.json().history.map((h) => h.to)).to.eql(["payment_pending", "payment_failed"]);
});
""",
        ),
        quantity_is("Wait until the declined order's stock returns (8 available)", 8, wait=True),
        request(
            "Paying a failed order again is 409",
            "POST",
            "orderUrl",
            "/orders/{{declinedOrderId}}/pay",
            token="buyerToken",
            body={"paymentToken": "tok_visa"},
            test=error(409, "illegal_transition"),
        ),
        # The cancel.
        order_create("Place an order to cancel", 3, "cancelOrderId"),
        quantity_is("The order holds its stock (5 available)", 5),
        request(
            "Cancel the order",
            "POST",
            "orderUrl",
            "/orders/{{cancelOrderId}}/cancel",
            token="buyerToken",
            test=status(200)
            + """
pm.test("cancelled", () => {
    pm.expect(pm.response.json().status).to.eql("cancelled");
    pm.expect(pm.response.json().statusLabel).to.eql("order cancelled");
});
""",
        ),
        quantity_is("Wait until the cancelled order's stock returns (8 available)", 8, wait=True),
        request(
            "Paying a cancelled order is 409",
            "POST",
            "orderUrl",
            "/orders/{{cancelOrderId}}/pay",
            token="buyerToken",
            body={"paymentToken": "tok_visa"},
            test=error(409, "illegal_transition"),
        ),
        request(
            "Pay without a payment token is 400",
            "POST",
            "orderUrl",
            "/orders/{{cancelOrderId}}/pay",
            token="buyerToken",
            body={},
            test=error(400, None, "paymentToken"),
        ),
        # The old single-item body.
        request(
            "Place an order with the old body {productId, quantity, totalAmount}",
            "POST",
            "orderUrl",
            "/orders",
            token="buyerToken",
            pre="""
pm.collectionVariables.set("oldTotal", (Number(pm.collectionVariables.get("productPrice")) * 1).toFixed(2));
""",
            body='{\n  "productId": "{{productId}}",\n  "quantity": 1,\n  "totalAmount": {{oldTotal}}\n}',
            test=status(201)
            + order_shape()
            + """
const order = pm.response.json();
pm.test("one item, priced by the catalogue", () => {
    pm.expect(order.status).to.eql("payment_pending");
    pm.expect(order.items.map((i) => [i.productId, i.quantity])).to.eql([[pm.collectionVariables.get("productId"), 1]]);
    pm.expect(order.totalAmount).to.eql(Number(pm.collectionVariables.get("oldTotal")));
});
pm.collectionVariables.set("oldOrderId", order.id);
""",
        ),
        request(
            "Cancel the old-body order",
            "POST",
            "orderUrl",
            "/orders/{{oldOrderId}}/cancel",
            token="buyerToken",
            test=status(200),
        ),
        request(
            "The old body with a wrong totalAmount is 400 (prices come from the catalogue)",
            "POST",
            "orderUrl",
            "/orders",
            token="buyerToken",
            body={"productId": "{{productId}}", "quantity": 1, "totalAmount": 0.01},
            test=error(400, "total_mismatch"),
        ),
        quantity_is("Wait until every cancelled order's stock returns (8 available)", 8, wait=True),
    ]
    return folder(
        "Orders",
        "order_service: place (items, the old single-item body, Idempotency-Key), pay "
        "(tok_visa, tok_chargeDeclined), wait for the worker to confirm, status and history, "
        "cancel, lists and access (own orders only, admins all, others' are 404).",
        items,
    )


# --- Old clients -----------------------------------------------------------------------------


def old_clients_folder() -> dict:
    items = [
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
    return folder(
        "Old clients (cookie only)",
        "The old Node.js system's calls as its clients made them: no Authorization header, only "
        "the userAuthToken cookie that login sets (cookies are per host: every service shares "
        "one host, locally 127.0.0.1 and behind the ingress its host name).",
        items,
    )


# --- Health & docs ---------------------------------------------------------------------------

SERVICES = [
    (
        "user_service",
        "userUrl",
        [
            "/users/register",
            "/users/login",
            "/users/token/refresh",
            "/users/logout",
            "/users/me",
            "/users/me/password",
        ],
    ),
    (
        "product_service",
        "productUrl",
        [
            "/product/",
            "/product/create",
            "/product/list",
            "/product/{product_id}",
            "/product/{product_id}/quantity",
            "/product/{product_id}/reviews",
        ],
    ),
    (
        "order_service",
        "orderUrl",
        [
            "/orders",
            "/orders/{order_id}",
            "/orders/{order_id}/status",
            "/orders/{order_id}/pay",
            "/orders/{order_id}/cancel",
        ],
    ),
    ("integration_service", "integrationUrl", []),
]


def health_folder() -> dict:
    items = []
    for service, base, paths in SERVICES:
        items += [
            request(
                f"{service}: /health",
                "GET",
                base,
                "/health",
                pre=DIRECT_ONLY,
                test=status(200)
                + f"""
pm.test("ok, {service}", () => {{
    pm.expect(pm.response.json().status).to.eql("ok");
    pm.expect(pm.response.json().service).to.eql("{service}");
}});
""",
            ),
            request(
                f"{service}: /ready",
                "GET",
                base,
                "/ready",
                pre=DIRECT_ONLY,
                test=status(200)
                + """
pm.test("ready", () => pm.expect(pm.response.json().status).to.eql("ready"));
""",
            ),
            request(
                f"{service}: OpenAPI schema",
                "GET",
                base,
                "/api/schema",
                query={"format": "json"},
                pre=DIRECT_ONLY,
                test=status(200)
                + f"""
pm.test("OpenAPI 3 with the service's public routes", () => {{
    const schema = pm.response.json();
    pm.expect(schema.openapi).to.match(/^3\\./);
    const paths = Object.keys(schema.paths || {{}});
    {json.dumps(paths)}.forEach((p) => pm.expect(paths, p).to.include(p));
}});
""",
            ),
            request(
                f"{service}: API docs (Swagger UI)",
                "GET",
                base,
                "/api/docs",
                pre=DIRECT_ONLY,
                test=status(200)
                + """
pm.test("an HTML page", () => pm.expect(pm.response.headers.get("Content-Type")).to.include("text/html"));
""",
            ),
            request(
                f"{service}: API docs (ReDoc)",
                "GET",
                base,
                "/api/redoc",
                pre=DIRECT_ONLY,
                test=status(200)
                + """
pm.test("an HTML page", () => pm.expect(pm.response.headers.get("Content-Type")).to.include("text/html"));
""",
            ),
            request(
                f"{service}: admin login page",
                "GET",
                base,
                "/admin/login/",
                pre=DIRECT_ONLY,
                test=status(200)
                + """
pm.test("the Django admin", () => pm.expect(pm.response.text()).to.include("csrfmiddlewaretoken"));
""",
            ),
            request(
                f"{service}: an unknown route is a JSON 404",
                "GET",
                base,
                "/no/such/route",
                pre=DIRECT_ONLY,
                test=error(404),
            ),
        ]
    items.append(
        request(
            "user_service: /internal/verify without X-Internal-Token is refused, no data",
            "GET",
            "userUrl",
            "/internal/verify",
            token="buyerToken",
            pre=DIRECT_ONLY,
            test="""
pm.test("status is 401 or 403", () => pm.expect(pm.response.code).to.be.oneOf([401, 403]));
pm.test("no user data", () => pm.expect(pm.response.json()).not.to.have.property("userId"));
""",
        )
    )
    return folder(
        "Health & docs",
        "Every service's /health, /ready, OpenAPI schema and docs, admin site, JSON 404, and "
        "that /internal refuses a caller without the shared secret. Not routed by the ingress: "
        "skipped when the environment sets viaIngress=true.",
        items,
    )


# --- the collection ---------------------------------------------------------------------------

NO_SERVER_ERRORS = """
pm.test("no server error (a 500 is always a bug)", () => pm.expect(pm.response.code).to.be.below(500));
"""


def collection() -> dict:
    variables = [
        "runId",
        "password",
        *(
            f"{who}{suffix}"
            for who in ("seller", "buyer", "stranger")
            for suffix in ("Email", "Id")
        ),
        *(
            f"{who}{suffix}"
            for who in ("seller", "buyer", "stranger", "admin", "session")
            for suffix in ("Token", "Refresh")
        ),
        "rotatedRefresh",
        "newPassword",
        "revokedToken",
        "revokedRefresh",
        "productId",
        "productTitle",
        "productPrice",
        "legacyProductId",
        "idempotencyKey",
        "orderId",
        "declinedOrderId",
        "cancelOrderId",
        "oldTotal",
        "oldOrderId",
        "oldEmail",
        "oldUserId",
        "oldProductId",
        "oldClientOrderId",
        "pollCount",
    ]
    return {
        "info": {
            "_postman_id": "6f0f8f3e-6b7a-4f6e-9a51-3c0d2e5b7a10",
            "name": "ecommerce-backend",
            "description": (
                "Every public route of ecommerce-backend (user_service, product_service, "
                "order_service, integration_service's health and admin), with tests. Run it in "
                "order (Collection Runner or newman) with the local or ingress environment; it "
                "registers its own users and needs only adminEmail/adminPassword. Generated by "
                "postman/build_collection.py."
            ),
            "schema": SCHEMA,
        },
        "auth": {"type": "noauth"},
        "event": [
            {
                "listen": "test",
                "script": {"type": "text/javascript", "exec": js(NO_SERVER_ERRORS)},
            }
        ],
        "variable": [{"key": key, "value": "", "type": "string"} for key in variables],
        "item": [
            users_folder(),
            products_folder(),
            orders_folder(),
            old_clients_folder(),
            health_folder(),
        ],
    }


def render() -> str:
    return json.dumps(collection(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            print(f"{OUTPUT.name} is out of date: run python3 postman/build_collection.py")
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
