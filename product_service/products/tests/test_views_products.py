"""The public catalogue API: create, list (filters, search, pagination, ordering), detail, edits."""

import json
from decimal import Decimal

import pytest

from products.models import Product
from products.tests.conftest import ADMIN_ID, SELLER_ID
from products.tests.factories import ProductFactory, ReviewFactory

VALID_BODY = {
    "title": "Desk lamp",
    "description": "Warm light.",
    "price": 24.5,
    "category": "Home & Kitchen",
    "quantity": 12,
    "imageUrl": "https://img.example.com/lamp.png",
    "tags": ["lighting", "desk"],
}


# --- create -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/product/", "/product/create"])
def test_product_create_lists_the_product_for_the_caller(seller_client, path):
    response = seller_client.post(path, VALID_BODY, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {
        "id", "title", "description", "price", "category", "quantity", "imageUrl", "tags",
        "seller", "rating", "reviewCount", "createdAt", "updatedAt",
    }  # fmt: skip
    assert body["seller"] == SELLER_ID
    assert body["price"] == 24.5
    assert body["quantity"] == 12
    assert body["tags"] == ["lighting", "desk"]
    assert body["rating"] == 0
    assert body["reviewCount"] == 0
    product = Product.objects.get(pk=body["id"])
    assert (product.price, product.quantity, product.reserved, product.sold) == (
        Decimal("24.50"),
        12,
        0,
        0,
    )


def test_product_create_takes_the_old_clients_single_tag_and_short_image(seller_client):
    body = {**VALID_BODY, "tags": "tags", "imageUrl": "image"}

    response = seller_client.post("/product/create", body, format="json")

    assert response.status_code == 201
    assert response.json()["tags"] == ["tags"]
    assert response.json()["imageUrl"] == "image"


@pytest.mark.parametrize(
    ("tag", "refused_as"),
    [
        ("a\x00b", "tags"),
        # Not text at all: the shared JSON parser refuses the body before any field is read.
        ("a\ud800b", "malformed_request"),
        ("\udfff", "malformed_request"),
    ],
)
def test_product_create_refuses_tags_mongodb_cannot_store(seller_client, tag, refused_as):
    """A NUL or a lone surrogate in a tag was stored as given or failed the insert (a 500)."""
    response = seller_client.post(
        "/product/",
        data=json.dumps({**VALID_BODY, "tags": ["ok", tag]}),
        content_type="application/json",
    )

    assert response.status_code == 400, response.content
    body = response.json()
    assert refused_as in (body["code"], *body["errors"])
    assert not Product.objects.exists()


@pytest.mark.parametrize("path", ["/product/", "/product/create"])
def test_product_create_needs_a_logged_in_user(api_client, path):
    response = api_client.post(path, VALID_BODY, format="json")

    assert response.status_code == 401
    assert not Product.objects.exists()


def test_product_create_accepts_the_user_auth_token_cookie(verify_server, api_client):
    api_client.cookies["userAuthToken"] = verify_server.issue(user_id="55")

    response = api_client.post("/product/", VALID_BODY, format="json")

    assert response.status_code == 201
    assert response.json()["seller"] == "55"


def test_product_create_with_a_revoked_token_is_401(verify_server, api_client):
    token = verify_server.issue(user_id="55")
    verify_server.revoke(token)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert api_client.post("/product/", VALID_BODY, format="json").status_code == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "Toys"}, "category"),
        ({"price": -1}, "price"),
        ({"price": "abc"}, "price"),
        ({"price": 1.234}, "price"),
        ({"price": True}, "price"),
        ({"quantity": -1}, "quantity"),
        ({"quantity": 2.5}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"title": ""}, "title"),
        ({"imageUrl": ""}, "imageUrl"),
        ({"tags": [1, 2]}, "tags"),
        ({"tags": {"$ne": 1}}, "tags"),
        ({"title": "T" * 201}, "title"),
        ({"description": "D" * 5001}, "description"),
        ({"imageUrl": "https://img.example.com/" + "i" * 2030}, "imageUrl"),
        ({"tags": [f"tag{n}" for n in range(21)]}, "tags"),
        ({"tags": ["t" * 51]}, "tags"),
    ],
)
def test_product_create_rejects_bad_input(seller_client, change, field):
    response = seller_client.post("/product/", {**VALID_BODY, **change}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["errors"]
    assert not Product.objects.exists()


def test_product_create_takes_every_field_at_its_longest(seller_client):
    body = {
        **VALID_BODY,
        "title": "T" * 200,
        "description": "D" * 5000,
        "imageUrl": "i" * 2048,
        "tags": [f"{n:02d}" + "t" * 48 for n in range(20)],
    }

    response = seller_client.post("/product/", body, format="json")

    assert response.status_code == 201, response.json()
    assert len(response.json()["description"]) == 5000
    assert len(response.json()["tags"]) == 20


def test_product_patch_refuses_a_description_over_the_limit(seller_client):
    product = ProductFactory(seller=SELLER_ID, description="short")

    response = seller_client.patch(
        f"/product/{product.pk}", {"description": "D" * 5001}, format="json"
    )

    assert response.status_code == 400
    assert "description" in response.json()["errors"]
    product.refresh_from_db()
    assert product.description == "short"


def test_the_schema_documents_every_string_limit(api_client):
    schema = api_client.get("/api/schema", HTTP_ACCEPT="application/json").json()
    components = schema["components"]["schemas"]
    product = components["ProductInputRequest"]["properties"]
    review = components["ReviewInputRequest"]["properties"]

    assert product["title"]["maxLength"] == 200
    assert product["description"]["maxLength"] == 5000
    assert product["imageUrl"]["maxLength"] == 2048
    assert product["tags"]["maxItems"] == 20
    assert product["tags"]["items"]["maxLength"] == 50
    assert review["title"]["maxLength"] == 200
    assert review["description"]["maxLength"] == 5000


def test_product_create_rejects_missing_fields(seller_client):
    response = seller_client.post("/product/", {}, format="json")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"title", "price", "category", "quantity", "imageUrl"}


# --- list ---------------------------------------------------------------------------------------


def ids(response) -> list[str]:
    return [product["id"] for product in response.json()["results"]]


def test_product_list_is_public_paginated_and_newest_first(api_client):
    products = [ProductFactory() for _ in range(3)]

    first = api_client.get("/product/", {"pageSize": 2})
    second = api_client.get(first.json()["next"])

    assert first.status_code == 200
    assert first.json()["count"] == 3
    assert first.json()["previous"] is None
    assert ids(first) + ids(second) == [str(p.pk) for p in reversed(products)]
    assert second.json()["next"] is None


def test_product_list_filters_by_category_seller_and_tags(api_client):
    book = ProductFactory(category="Books", seller="1", tags=["novel", "paper"])
    ProductFactory(category="Books", seller="2", tags=["comic"])
    ProductFactory(category="Sports", seller="1", tags=["novel"])

    response = api_client.get("/product/", {"category": "Books", "seller": "1", "tags": "novel"})

    assert ids(response) == [str(book.pk)]


def test_product_list_tags_filter_matches_any_given_tag(api_client):
    a = ProductFactory(tags=["red"])
    b = ProductFactory(tags=["blue"])
    ProductFactory(tags=["green"])

    response = api_client.get("/product/", {"tags": "red,blue", "ordering": "createdAt"})

    assert ids(response) == [str(a.pk), str(b.pk)]


def test_product_list_filters_by_price_range(api_client):
    ProductFactory(price="5.00")
    middle = ProductFactory(price="10.00")
    ProductFactory(price="20.01")

    response = api_client.get("/product/", {"minPrice": "10", "maxPrice": "20"})

    assert ids(response) == [str(middle.pk)]


def test_product_list_search_matches_title_description_and_tags_case_insensitively(api_client):
    by_title = ProductFactory(title="Red KETTLE")
    by_description = ProductFactory(description="a kettle for tea")
    by_tag = ProductFactory(tags=["Kettles"])
    ProductFactory(title="Toaster", description="bread", tags=["kitchen"])

    response = api_client.get("/product/", {"search": "kettle", "ordering": "createdAt"})

    assert ids(response) == [str(by_title.pk), str(by_description.pk), str(by_tag.pk)]


@pytest.mark.parametrize("search", [".*", "(", "a|b", "[", "\\", "^$"])
def test_product_list_search_treats_the_text_literally(api_client, search):
    literal = ProductFactory(title=f"odd {search} title")
    ProductFactory(title="plain")

    response = api_client.get("/product/", {"search": search})

    assert response.status_code == 200
    assert ids(response) == [str(literal.pk)]


def test_product_list_orders_by_price_either_way(api_client):
    cheap = ProductFactory(price="1.00")
    dear = ProductFactory(price="100.00")
    middle = ProductFactory(price="9.99")

    ascending = api_client.get("/product/", {"ordering": "price"})
    descending = api_client.get("/product/", {"ordering": "-price"})

    assert ids(ascending) == [str(cheap.pk), str(middle.pk), str(dear.pk)]
    assert ids(descending) == [str(dear.pk), str(middle.pk), str(cheap.pk)]


@pytest.mark.parametrize(
    "params",
    [
        {"category": "Toys"},
        {"minPrice": "-1"},
        {"minPrice": "abc"},
        {"minPrice": "10", "maxPrice": "5"},
        {"ordering": "seller"},
        {"ordering": "$natural"},
    ],
)
def test_product_list_rejects_bad_query_parameters(api_client, params):
    response = api_client.get("/product/", params)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_product_list_page_past_the_end_is_404(api_client):
    ProductFactory()

    response = api_client.get("/product/", {"page": 5})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_product_list_without_a_slash_is_not_found(api_client):
    assert api_client.get("/product").status_code == 404


# --- old list -----------------------------------------------------------------------------------


def test_old_list_answers_a_plain_array(api_client):
    product = ProductFactory()

    response = api_client.get("/product/list")

    assert response.status_code == 200
    assert [p["id"] for p in response.json()] == [str(product.pk)]


def test_old_list_is_bounded_in_bytes_and_keeps_its_plain_array(api_client, settings):
    settings.PRODUCT_LIST_LEGACY_MAX_BYTES = 20_000
    for _ in range(10):
        ProductFactory(description="d" * 4000)

    response = api_client.get("/product/list")

    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert 1 <= len(body) < 10
    assert len(response.content) <= 20_000
    assert response["X-Results-Truncated"] == "true"


def test_old_list_within_its_bounds_says_it_is_whole(api_client):
    ProductFactory(description="d" * 4000)

    response = api_client.get("/product/list")

    assert len(response.json()) == 1
    assert response["X-Results-Truncated"] == "false"


@pytest.mark.parametrize("path", ["/product/", "/product/create"])
def test_product_create_over_the_sellers_rate_is_429_with_retry_after(
    seller_client, other_client, settings, path
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"product_create_user": "2/minute"},
    }

    statuses = [seller_client.post(path, VALID_BODY, format="json").status_code for _ in range(3)]

    assert statuses == [201, 201, 429]
    refused = seller_client.post(path, VALID_BODY, format="json")
    assert refused.json()["code"] == "throttled"
    assert int(refused["Retry-After"]) >= 1
    assert Product.objects.count() == 2
    # Reading is never limited; another seller has a budget of their own.
    assert seller_client.get("/product/").status_code == 200
    assert other_client.post(path, VALID_BODY, format="json").status_code == 201


@pytest.mark.parametrize("key", ["category", "title", "id"])
def test_old_list_filters_by_one_plain_value(api_client, key):
    wanted = ProductFactory(category="Books", title="Dune")
    ProductFactory(category="Sports", title="Ball")
    value = {"category": "Books", "title": "Dune", "id": str(wanted.pk)}[key]

    response = api_client.get("/product/list", {"filter": f'{{"{key}": "{value}"}}'})

    assert response.status_code == 200
    assert [p["id"] for p in response.json()] == [str(wanted.pk)]


@pytest.mark.parametrize(
    "raw",
    [
        '{"category": {"$ne": "x"}}',
        '{"title": {"$regex": ".*"}}',
        '{"$where": "sleep(1000)"}',
        '{"$or": [{"category": "Books"}]}',
        '{"seller": "7"}',
        '{"id": "not-an-id"}',
        '{"id": {"$gt": ""}}',
        '{"category": ["Books"]}',
        '{"title": 5}',
        '["category"]',
        "not json",
        '{"category": "Books"',
        '{"title": "\\ud800"}',
        '{"title": "a\\u0000"}',
        '{"title": "' + "x" * 201 + '"}',
    ],
)
def test_old_list_rejects_operator_injection_and_bad_filters(api_client, raw):
    ProductFactory()

    response = api_client.get("/product/list", {"filter": raw})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_filter"


# --- detail, quantity ---------------------------------------------------------------------------


def test_product_detail_is_public(api_client):
    product = ProductFactory(title="Kettle", price="12.30", tags=["tea"])
    ReviewFactory(product=product, rating=5)

    response = api_client.get(f"/product/{product.pk}")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["title"], body["price"], body["tags"]) == (
        str(product.pk),
        "Kettle",
        12.3,
        ["tea"],
    )


@pytest.mark.parametrize("product_id", ["nope", "0123456789abcdef01234567", "zz" * 12, "1" * 25])
def test_product_detail_of_a_malformed_or_unknown_id_is_404(api_client, product_id):
    response = api_client.get(f"/product/{product_id}")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_product_quantity_answers_the_stock_available_to_sell(api_client, internal_client):
    product = ProductFactory(quantity=7)
    internal_client.post(
        "/internal/reservations",
        {"orderId": "o-1", "items": [{"productId": str(product.pk), "quantity": 3}]},
        format="json",
    )

    response = api_client.get(f"/product/{product.pk}/quantity")

    assert response.status_code == 200
    assert response.json() == {"quantity": 4}
    assert api_client.get("/product/nope/quantity").status_code == 404


# --- edits --------------------------------------------------------------------------------------


def test_product_patch_by_the_seller_changes_only_the_given_fields(seller_client):
    product = ProductFactory(seller=SELLER_ID, title="Old", price="5.00", tags=["x"])

    response = seller_client.patch(
        f"/product/{product.pk}", {"title": "New", "tags": "solo"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["title"], response.json()["tags"], response.json()["price"]) == (
        "New",
        ["solo"],
        5.0,
    )
    product.refresh_from_db()
    assert (product.title, product.seller) == ("New", SELLER_ID)


def test_product_put_by_the_seller_replaces_the_product(seller_client):
    product = ProductFactory(seller=SELLER_ID, tags=["old"])

    response = seller_client.put(
        f"/product/{product.pk}", {**VALID_BODY, "tags": []}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["title"] == VALID_BODY["title"]
    assert response.json()["tags"] == []


def test_product_put_needs_every_field(seller_client):
    product = ProductFactory(seller=SELLER_ID)

    response = seller_client.put(f"/product/{product.pk}", {"title": "Only"}, format="json")

    assert response.status_code == 400


def test_product_patch_of_quantity_restocks_without_touching_reserved_stock(
    seller_client, internal_client
):
    product = ProductFactory(seller=SELLER_ID, quantity=5)
    internal_client.post(
        "/internal/reservations",
        {"orderId": "o-1", "items": [{"productId": str(product.pk), "quantity": 2}]},
        format="json",
    )

    response = seller_client.patch(f"/product/{product.pk}", {"quantity": 10}, format="json")

    assert response.json()["quantity"] == 10
    product.refresh_from_db()
    assert (product.quantity, product.reserved, product.sold) == (10, 2, 0)


def test_product_edits_by_someone_else_are_404_and_change_nothing(other_client):
    product = ProductFactory(seller=SELLER_ID, title="Mine")

    patch = other_client.patch(f"/product/{product.pk}", {"title": "Theirs"}, format="json")
    put = other_client.put(f"/product/{product.pk}", VALID_BODY, format="json")
    delete = other_client.delete(f"/product/{product.pk}")

    assert (patch.status_code, put.status_code, delete.status_code) == (404, 404, 404)
    product.refresh_from_db()
    assert product.title == "Mine"


def test_product_edits_without_login_are_401(api_client):
    product = ProductFactory()

    assert api_client.patch(f"/product/{product.pk}", {"title": "x"}).status_code == 401
    assert api_client.delete(f"/product/{product.pk}").status_code == 401
    assert Product.objects.filter(pk=product.pk).exists()


def test_an_admin_may_edit_and_delete_any_product(admin_client):
    product = ProductFactory(seller=SELLER_ID)

    patch = admin_client.patch(f"/product/{product.pk}", {"price": "3.00"}, format="json")
    delete = admin_client.delete(f"/product/{product.pk}")

    assert patch.status_code == 200
    assert patch.json()["seller"] == SELLER_ID != ADMIN_ID
    assert delete.status_code == 204
    assert not Product.objects.filter(pk=product.pk).exists()


def test_product_delete_by_the_seller_removes_it_and_its_reviews(seller_client):
    product = ProductFactory(seller=SELLER_ID)
    ReviewFactory(product=product)

    response = seller_client.delete(f"/product/{product.pk}")

    assert response.status_code == 204
    assert seller_client.get(f"/product/{product.pk}").status_code == 404
    assert not product.reviews.exists()


def test_product_delete_is_refused_while_stock_is_reserved(seller_client, internal_client):
    product = ProductFactory(seller=SELLER_ID, quantity=5)
    internal_client.post(
        "/internal/reservations",
        {"orderId": "o-1", "items": [{"productId": str(product.pk), "quantity": 1}]},
        format="json",
    )

    response = seller_client.delete(f"/product/{product.pk}")

    assert response.status_code == 409
    assert response.json()["code"] == "product_has_reservations"
    assert Product.objects.filter(pk=product.pk).exists()


def test_product_patch_rejects_bad_values(seller_client):
    product = ProductFactory(seller=SELLER_ID)

    response = seller_client.patch(f"/product/{product.pk}", {"category": "Toys"}, format="json")

    assert response.status_code == 400
    assert "category" in response.json()["errors"]


def test_product_create_refuses_a_seller_or_stock_given_in_the_body(seller_client):
    body = {**VALID_BODY, "seller": "999", "reserved": 50, "rating": 5}

    response = seller_client.post("/product/", body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "rating": ["Unknown field."],
        "reserved": ["Unknown field."],
        "seller": ["Unknown field."],
    }
    assert not Product.objects.exists()


def test_product_patch_refuses_to_change_the_seller(seller_client):
    product = ProductFactory(seller=SELLER_ID)

    response = seller_client.patch(f"/product/{product.pk}", {"seller": "8"}, format="json")

    assert response.status_code == 400
    product.refresh_from_db()
    assert product.seller == SELLER_ID


def test_product_list_reads_a_page_in_two_queries_however_many_products(api_client, store_commands):
    for _ in range(25):
        ProductFactory()

    with store_commands() as commands:
        response = api_client.get("/product/", {"pageSize": 20})

    assert len(response.json()["results"]) == 20
    assert response.json()["count"] == 25
    assert [next(iter(command)) for command in commands] == ["find", "count"]


@pytest.mark.parametrize(("page_size", "page", "shown"), [(4, 3, 1), (9, 1, 9), (20, 1, 9)])
def test_product_list_counts_nothing_for_the_last_page(
    api_client, store_commands, page_size, page, shown
):
    for _ in range(9):
        ProductFactory()

    with store_commands() as commands:
        response = api_client.get("/product/", {"pageSize": page_size, "page": page})

    # The page is read with one row more than it shows; without that row it is the last page,
    # and the total is the rows before it and on it.
    assert response.status_code == 200
    assert len(response.json()["results"]) == shown
    assert response.json()["count"] == 9
    assert response.json()["next"] is None
    assert [next(iter(command)) for command in commands] == ["find"]


def test_product_list_page_past_the_end_is_404_without_a_count(api_client, store_commands):
    for _ in range(9):
        ProductFactory()

    with store_commands() as commands:
        response = api_client.get("/product/", {"pageSize": 3, "page": 4})

    assert response.status_code == 404
    assert [next(iter(command)) for command in commands] == ["find"]


def test_product_list_search_reads_its_page_and_total_in_one_pass(api_client, store_commands):
    for number in range(5):
        ProductFactory(title=f"Lamp {number}")
    ProductFactory(title="Kettle")

    with store_commands() as commands:
        response = api_client.get("/product/", {"search": "lamp", "pageSize": 2, "page": 2})

    # A search scans: one scan gives the page and the total.
    assert response.json()["count"] == 5
    assert [product["title"] for product in response.json()["results"]] == ["Lamp 2", "Lamp 1"]
    assert [next(iter(command)) for command in commands] == ["aggregate"]
