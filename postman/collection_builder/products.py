"""The Products folder: product_service's catalogue, changes by the seller, reviews."""

from __future__ import annotations

from .items import UNKNOWN_PRODUCT_ID, folder, request
from .scripts import CLEAR_COOKIES, PAGE, block, error, product_shape, status

PRODUCT_BODY = {
    "title": "Postman headphones {{runId}}",
    "description": "Over-ear, noise-cancelling, 30 h battery.",
    "price": 29.99,
    "category": "Electronics",
    "quantity": 10,
    "imageUrl": "https://example.com/images/headphones.png",
    "tags": ["audio", "postman-{{runId}}"],
}


def old_list_finds_the_product(name: str, filter_json: str, test_name: str) -> dict:
    """``GET /product/list?filter=`` answering a plain array of just the run's product."""
    return request(
        name,
        "GET",
        "productUrl",
        "/product/list",
        query={"filter": filter_json},
        test=status(200) + block("plain_array_of_the_product", test_name=test_name),
    )


def creating() -> list[dict]:
    """The list; a product created (also the old way) and got; bad fields; unknown ids."""
    return [
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
    ]


def listing() -> list[dict]:
    """The list's filters and pagination, and the old /product/list?filter=."""
    return [
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
        old_list_finds_the_product(
            'Old list by id (GET /product/list?filter={"id": ...})',
            '{"id":"{{productId}}"}',
            "a plain array with just the product",
        ),
        old_list_finds_the_product(
            "Old list by title", '{"title":"{{productTitle}}"}', "a plain array with the product"
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
    ]


def changing() -> list[dict]:
    """PATCH and PUT by the seller (by anyone else: 404), and the available quantity."""
    return [
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
    ]


def reviews() -> list[dict]:
    """Reviews (once per user, never the seller's, rating 1-5) and the product's rating."""
    return [
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
    ]


def deleting() -> list[dict]:
    """DELETE by the seller only."""
    return [
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


def products_folder() -> dict:
    return folder(
        "Products",
        "product_service: the catalogue (paginated list with filters, the old /product/list and "
        "/product/create), change and delete by the seller only, available quantity, reviews.",
        [*creating(), *listing(), *changing(), *reviews(), *deleting()],
    )
