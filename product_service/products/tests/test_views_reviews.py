"""Reviews: the caller is the author, rating 1-5, one per user per product, exact averages."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from products import services
from products.models import Product, Review
from products.tests.conftest import OTHER_USER_ID, SELLER_ID
from products.tests.factories import ProductFactory, ReviewFactory


def test_review_post_records_the_callers_review_and_updates_the_rating(other_client):
    product = ProductFactory()

    response = other_client.post(
        f"/product/{product.pk}/reviews",
        {"rating": 4, "title": "Good", "description": "Works well."},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["productId"], body["userId"], body["rating"], body["title"]) == (
        str(product.pk),
        OTHER_USER_ID,
        4,
        "Good",
    )
    detail = other_client.get(f"/product/{product.pk}").json()
    assert (detail["rating"], detail["reviewCount"]) == (4.0, 1)


def test_review_average_is_exact_over_several_reviews(api_client):
    product = ProductFactory()
    for user_id, rating in [("1", 5), ("2", 4), ("3", 4)]:
        services.review_create(product=product, user_id=user_id, rating=rating)

    detail = api_client.get(f"/product/{product.pk}").json()

    assert (detail["rating"], detail["reviewCount"]) == (4.33, 3)


def test_a_second_review_by_the_same_user_is_409(other_client):
    product = ProductFactory()
    url = f"/product/{product.pk}/reviews"
    other_client.post(url, {"rating": 5}, format="json")

    response = other_client.post(url, {"rating": 1}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_review"
    product.refresh_from_db()
    assert (product.review_count, product.rating_total) == (1, 5)


@pytest.mark.parametrize("rating", [0, 6, 3.5, True, "five", None])
def test_review_post_rejects_a_rating_outside_one_to_five(other_client, rating):
    product = ProductFactory()

    response = other_client.post(
        f"/product/{product.pk}/reviews", {"rating": rating}, format="json"
    )

    assert response.status_code == 400
    assert "rating" in response.json()["errors"]
    assert not Review.objects.exists()


def test_review_post_needs_a_logged_in_user(api_client):
    product = ProductFactory()

    response = api_client.post(f"/product/{product.pk}/reviews", {"rating": 5}, format="json")

    assert response.status_code == 401


def test_review_post_for_an_unknown_product_is_404(other_client):
    response = other_client.post(
        "/product/0123456789abcdef01234567/reviews", {"rating": 5}, format="json"
    )

    assert response.status_code == 404


def test_review_list_is_public_paginated_and_per_product(api_client):
    product = ProductFactory()
    reviews = [ReviewFactory(product=product, user_id=str(n)) for n in range(3)]
    ReviewFactory()

    response = api_client.get(f"/product/{product.pk}/reviews")

    assert response.status_code == 200
    assert response.json()["count"] == 3
    assert [r["id"] for r in response.json()["results"]] == [str(r.pk) for r in reversed(reviews)]
    assert api_client.get("/product/nope/reviews").status_code == 404


def test_concurrent_reviews_keep_the_count_and_average_exact():
    product = ProductFactory(seller=SELLER_ID)
    ratings = [(str(100 + n), n % 5 + 1) for n in range(40)]  # none of them the seller

    def post(user_rating: tuple[str, int]) -> None:
        try:
            services.review_create(product=product, user_id=user_rating[0], rating=user_rating[1])
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(post, ratings))

    product = Product.objects.get(pk=product.pk)
    assert product.review_count == 40
    assert product.rating_total == sum(rating for _, rating in ratings)
    assert str(product.rating) == "3.00"


def test_review_delete_takes_the_review_out_of_the_rating_once():
    product = ProductFactory()
    kept = services.review_create(product=product, user_id="1", rating=5)
    removed = services.review_create(product=product, user_id="2", rating=1)

    services.review_delete(review=removed)
    services.review_delete(review=removed)

    product.refresh_from_db()
    assert (product.review_count, product.rating_total, str(product.rating)) == (1, 5, "5.00")
    assert list(Review.objects.values_list("pk", flat=True)) == [kept.pk]


def test_a_seller_cannot_review_their_own_product(seller_client):
    product = ProductFactory(seller=SELLER_ID)

    response = seller_client.post(f"/product/{product.pk}/reviews", {"rating": 5}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "own_product_review"
    product.refresh_from_db()
    assert (product.review_count, product.rating_total) == (0, 0)
    assert not Review.objects.exists()


def test_review_title_and_description_have_limits(other_client):
    product = ProductFactory()
    url = f"/product/{product.pk}/reviews"

    too_long = [
        other_client.post(url, {"rating": 3, "title": "t" * 201}, format="json"),
        other_client.post(url, {"rating": 3, "description": "d" * 5001}, format="json"),
    ]

    assert [r.status_code for r in too_long] == [400, 400]
    assert not Review.objects.exists()
    at_limit = other_client.post(
        url, {"rating": 3, "title": "t" * 200, "description": "d" * 5000}, format="json"
    )
    assert at_limit.status_code == 201


def test_reviews_over_the_users_rate_are_429(other_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"review_create_user": "1/minute"},
    }
    first, second = ProductFactory(), ProductFactory()

    assert (
        other_client.post(f"/product/{first.pk}/reviews", {"rating": 4}, format="json").status_code
        == 201
    )
    refused = other_client.post(f"/product/{second.pk}/reviews", {"rating": 4}, format="json")

    assert refused.status_code == 429
    assert "Retry-After" in refused
    assert not Review.objects.filter(product=second).exists()
