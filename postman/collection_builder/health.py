"""The Health & docs folder: health, readiness, OpenAPI and docs, admin, 404, /internal."""

from __future__ import annotations

import json

from .items import folder, request
from .scripts import DIRECT_ONLY, HTML_PAGE, error, status

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


def html_page(name: str, base: str, path: str) -> dict:
    return request(name, "GET", base, path, pre=DIRECT_ONLY, test=status(200) + HTML_PAGE)


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
            html_page(f"{service}: API docs (Swagger UI)", base, "/api/docs"),
            html_page(f"{service}: API docs (ReDoc)", base, "/api/redoc"),
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
