"""Readiness on MongoDB, the OpenAPI schema and the admin site. (``/health`` is common code:
common/tests/test_middleware.py.)"""

import pytest
from django.contrib.auth import get_user_model

from products.models import Product
from products.tests.factories import ProductFactory, ReservationFactory


def test_ready_pings_mongodb(api_client):
    response = api_client.get("/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def test_openapi_schema_describes_the_public_and_internal_routes(api_client):
    response = api_client.get("/api/schema", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in [
        "/product/",
        "/product/create",
        "/product/list",
        "/product/{product_id}",
        "/product/{product_id}/reviews",
        "/internal/reservations",
        "/internal/reservations/{order_id}/commit",
        "/internal/product/{product_id}/quantity",
    ]:
        assert path in paths


def test_openapi_schema_documents_pages_and_error_answers(api_client):
    """Lists answer a page envelope, and every error an operation can answer is documented."""
    schema = api_client.get("/api/schema", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]

    for path in ["/product/", "/product/{product_id}/reviews"]:
        ok = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        page = schema["components"]["schemas"][ok["$ref"].rsplit("/", 1)[1]]
        assert {"count", "next", "previous", "results"} <= set(page["properties"])
        assert {"page", "pageSize"} <= {p["name"] for p in paths[path]["get"]["parameters"]}
    assert set(paths["/product/{product_id}"]["get"]["responses"]) >= {"200", "404"}
    assert set(paths["/product/{product_id}"]["patch"]["responses"]) >= {"400", "401", "404"}
    assert set(paths["/product/{product_id}"]["delete"]["responses"]) >= {"204", "404", "409"}
    assert set(paths["/product/"]["post"]["responses"]) >= {"201", "400", "401"}
    assert set(paths["/product/list"]["get"]["responses"]) >= {"200", "400"}
    assert set(paths["/internal/reservations"]["post"]["responses"]) >= {
        "200",
        "201",
        "400",
        "401",
        "409",
    }
    error = paths["/product/{product_id}"]["get"]["responses"]["404"]
    error_ref = error["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][error_ref]["properties"]) == {
        "message",
        "code",
        "errors",
    }


def test_unknown_routes_answer_json_404(api_client):
    response = api_client.get("/nowhere")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw-123456!")
    client.force_login(user)
    return client


def test_admin_lists_products_with_their_stock_columns(staff_client):
    ProductFactory(title="Lamp", quantity=3)

    response = staff_client.get("/admin/products/product/")

    assert response.status_code == 200
    html = response.content.decode()
    for column in ["Lamp", "column-quantity", "column-reserved", "column-sold"]:
        assert column in html


def test_admin_shows_reservations_read_only(staff_client):
    reservation = ReservationFactory(order_id="order-42")

    listing = staff_client.get("/admin/products/reservation/")
    detail = staff_client.get(f"/admin/products/reservation/{reservation.pk}/change/")

    assert listing.status_code == 200
    assert "order-42" in listing.content.decode()
    assert detail.status_code == 200
    assert staff_client.get("/admin/products/reservation/add/").status_code == 403


def test_admin_restock_changes_available_stock_only(staff_client):
    from products import stock

    product = ProductFactory(title="Lamp", quantity=5, tags=["a", "b"])
    stock.reservation_create(order_id="o-1", lines=[stock.StockLine(product.pk, 2)], ttl_seconds=60)

    response = staff_client.post(
        f"/admin/products/product/{product.pk}/change/",
        {
            "title": "Lamp",
            "description": product.description,
            "price": "10.00",
            "category": product.category,
            "quantity": "20",
            "image_url": product.image_url,
            "tags": "a,b",
            "seller": product.seller,
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    product.refresh_from_db()
    assert (product.quantity, product.reserved, product.sold, product.tags) == (
        20,
        2,
        0,
        ["a", "b"],
    )


def test_admin_restock_keeps_a_reservation_made_after_the_form_read_the_stock(rf):
    from types import SimpleNamespace

    from django.contrib.admin.sites import site

    from products import stock

    product = ProductFactory(quantity=5)
    form = SimpleNamespace(changed_data=["quantity"], initial={"quantity": 5})
    stock.reservation_create(order_id="o-1", lines=[stock.StockLine(product.pk, 2)], ttl_seconds=60)
    product.quantity = 20

    site._registry[Product].save_model(rf.post("/"), product, form, change=True)

    product.refresh_from_db()
    assert (product.quantity, product.reserved, product.sold) == (18, 2, 0)


def test_admin_cannot_delete_a_product_with_reserved_stock(staff_client):
    from products import stock

    held = ProductFactory(quantity=5)
    free = ProductFactory(quantity=5)
    stock.reservation_create(order_id="o-1", lines=[stock.StockLine(held.pk, 1)], ttl_seconds=60)

    refused = staff_client.post(f"/admin/products/product/{held.pk}/delete/", {"post": "yes"})
    deleted = staff_client.post(f"/admin/products/product/{free.pk}/delete/", {"post": "yes"})

    assert refused.status_code == 403
    assert deleted.status_code == 302
    assert list(Product.objects.values_list("pk", flat=True)) == [held.pk]
