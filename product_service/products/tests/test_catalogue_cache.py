"""The catalogue read cache: hits, keys, invalidation by writes, refusals, headers, counts,
each on the per-process cache and on the shared Redis (``REDIS_URL``).

Changes made straight in the store (a factory, a queryset update) stand for a change made
by another process: this process's cache does not see them until its entries expire.
"""

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from products import catalogue_cache
from products.models import Product, Reservation
from products.tests.factories import ProductFactory, ReviewFactory


@pytest.fixture(autouse=True)
def _on_each_backend(catalogue_backend):
    """Every test here runs on the per-process cache and on Redis (``REDIS_URL`` set)."""


def _changed_behind_the_cache(product: Product, title: str) -> None:
    Product.objects.filter(pk=product.pk).update(title=title)


def _paths(product: Product) -> dict[str, str]:
    """The cached public reads that show ``product``."""
    legacy = urlencode({"filter": json.dumps({"category": product.category})})
    return {
        "list": f"/product/?{urlencode({'category': product.category})}",
        "legacy list": f"/product/list?{legacy}",
        "detail": f"/product/{product.pk}",
        "reviews": f"/product/{product.pk}/reviews",
    }


@pytest.mark.parametrize("route", ["list", "legacy list", "detail", "reviews"])
def test_catalogue_read_is_a_hit_after_a_miss_with_the_same_body(api_client, route):
    product = ProductFactory(title="Lamp")
    ReviewFactory(product=product)
    path = _paths(product)[route]

    first = api_client.get(path)
    _changed_behind_the_cache(product, "Lamp, renamed elsewhere")
    second = api_client.get(path)

    assert first.status_code == second.status_code == 200
    assert (first["X-Cache"], second["X-Cache"]) == ("miss", "hit")
    assert second.content == first.content


def test_catalogue_hit_needs_the_same_query_whatever_the_parameter_order(api_client):
    ProductFactory(category="Books", price=Decimal("12.00"))

    first = api_client.get("/product/?category=Books&maxPrice=50&ordering=price")
    reordered = api_client.get("/product/?ordering=price&maxPrice=50&category=Books")
    other = api_client.get("/product/?category=Books&maxPrice=40&ordering=price")

    assert (first["X-Cache"], reordered["X-Cache"], other["X-Cache"]) == ("miss", "hit", "miss")
    assert reordered.content == first.content


def test_catalogue_keeps_the_order_of_a_repeated_parameter_in_the_key(api_client):
    """The view reads the last of repeated values: the two orders are different questions."""
    ProductFactory(category="Books")

    books = api_client.get("/product/?category=Electronics&category=Books")
    electronics = api_client.get("/product/?category=Books&category=Electronics")

    assert (books["X-Cache"], electronics["X-Cache"]) == ("miss", "miss")
    assert books.json()["count"] == 1
    assert electronics.json()["count"] == 0


def test_catalogue_answers_are_keyed_by_host_because_page_links_are_absolute(settings):
    settings.ALLOWED_HOSTS = ["shop.example", "api.example"]
    ProductFactory.create_batch(3, category="Books")
    client = APIClient()

    shop = client.get("/product/?category=Books&pageSize=2", HTTP_HOST="shop.example")
    api = client.get("/product/?category=Books&pageSize=2", HTTP_HOST="api.example")

    assert (shop["X-Cache"], api["X-Cache"]) == ("miss", "miss")
    assert shop.json()["next"].startswith("http://shop.example/")
    assert api.json()["next"].startswith("http://api.example/")


def test_catalogue_cache_leaves_other_reads_alone(api_client):
    product = ProductFactory(quantity=5)

    response = api_client.get(f"/product/{product.pk}/quantity")

    assert response.status_code == 200
    assert "X-Cache" not in response
    assert "Cache-Control" not in response


# --- headers --------------------------------------------------------------------------------


def test_catalogue_200s_say_public_for_the_ttl_and_whether_they_hit(api_client, settings):
    settings.CATALOGUE_CACHE_SECONDS = 45
    product = ProductFactory()

    miss = api_client.get(f"/product/{product.pk}")
    hit = api_client.get(f"/product/{product.pk}")

    assert miss["Cache-Control"] == hit["Cache-Control"] == "public, max-age=45"
    assert (miss["X-Cache"], hit["X-Cache"]) == ("miss", "hit")
    assert hit["Age"] == "0"
    # The hit carries what the view and the other middleware gave the miss.
    for name in ("Content-Type", "Allow", "X-Frame-Options", "X-Content-Type-Options"):
        assert hit[name] == miss[name], name
    assert hit["X-Request-ID"] != miss["X-Request-ID"]


# --- refusals are never cached or served from the cache ---------------------------------------


def test_catalogue_bad_query_is_refused_every_time_and_never_cached(api_client):
    ProductFactory()

    first = api_client.get("/product/?ordering=cheapest")
    second = api_client.get("/product/?ordering=cheapest")

    assert first.status_code == second.status_code == 400
    assert first.json()["code"] == second.json()["code"] == "invalid"
    assert (first["X-Cache"], second["X-Cache"]) == ("miss", "miss")
    assert "Cache-Control" not in second


def test_catalogue_unknown_product_is_not_cached(api_client):
    product = ProductFactory()
    path = f"/product/{product.pk}"
    Product.objects.filter(pk=product.pk).delete()
    missing = api_client.get(path)
    ProductFactory(id=product.pk)  # Back, written by another process.

    found = api_client.get(path)

    assert missing.status_code == 404
    assert (found.status_code, found["X-Cache"]) == (200, "miss")


def test_catalogue_refuses_a_bad_token_even_when_the_answer_is_cached(api_client, verify_server):
    product = ProductFactory()
    api_client.get(f"/product/{product.pk}")
    stale = APIClient(headers={"Authorization": "Bearer not-a-token-anyone-issued"})
    revoked_token = verify_server.issue(user_id="9")
    verify_server.revoke(revoked_token)
    revoked = APIClient(headers={"Authorization": f"Bearer {revoked_token}"})

    for client in (stale, revoked):
        response = client.get(f"/product/{product.pk}")
        assert response.status_code == 401
        assert response.json()["code"] == "authentication_failed"


def test_catalogue_refuses_a_media_type_it_cannot_render_even_when_cached(api_client):
    product = ProductFactory()
    api_client.get(f"/product/{product.pk}")

    response = api_client.get(f"/product/{product.pk}", HTTP_ACCEPT="text/html")

    assert response.status_code == 406


def test_catalogue_gives_an_authenticated_caller_the_same_public_body(
    api_client, seller_client, other_client
):
    product = ProductFactory(seller="7")

    anonymous = api_client.get(f"/product/{product.pk}")
    seller = seller_client.get(f"/product/{product.pk}")
    other = other_client.get("/product/?category=Electronics")
    anonymous_list = api_client.get("/product/?category=Electronics")

    assert (anonymous["X-Cache"], seller["X-Cache"]) == ("miss", "hit")
    assert seller.content == anonymous.content
    assert (other["X-Cache"], anonymous_list["X-Cache"]) == ("miss", "hit")
    assert anonymous_list.content == other.content


# --- writes through this process invalidate at once -------------------------------------------


def _create_product(seller_client, internal_client, product):
    body = {
        "title": "New lamp",
        "price": 9.5,
        "category": product.category,
        "quantity": 3,
        "imageUrl": "image",
    }
    return seller_client.post("/product/", body, format="json")


def _edit_product(seller_client, internal_client, product):
    return seller_client.patch(f"/product/{product.pk}", {"price": 11}, format="json")


def _restock(seller_client, internal_client, product):
    return seller_client.patch(f"/product/{product.pk}", {"quantity": 50}, format="json")


def _delete_other_product(seller_client, internal_client, product):
    other = ProductFactory(seller="7")
    return seller_client.delete(f"/product/{other.pk}")


def _post_review(other_client, internal_client, product):
    # By another user: a seller cannot review their own product.
    return other_client.post(f"/product/{product.pk}/reviews", {"rating": 5}, format="json")


@pytest.mark.parametrize(
    "write",
    [_create_product, _edit_product, _restock, _delete_other_product, _post_review],
)
def test_catalogue_write_through_this_process_invalidates_every_entry(
    api_client, seller_client, other_client, internal_client, write
):
    product = ProductFactory(seller="7", title="Lamp")
    paths = _paths(product)
    for path in paths.values():
        assert api_client.get(path)["X-Cache"] == "miss"
    _changed_behind_the_cache(product, "Lamp, renamed elsewhere")

    writer = other_client if write is _post_review else seller_client
    response = write(writer, internal_client, product)

    assert response.status_code < 300, response.content
    after = {route: api_client.get(path) for route, path in paths.items()}
    assert {route: r["X-Cache"] for route, r in after.items()} == dict.fromkeys(paths, "miss")
    assert after["detail"].json()["title"] == "Lamp, renamed elsewhere"


def test_catalogue_refused_write_keeps_the_entries(api_client, seller_client):
    product = ProductFactory()
    api_client.get(f"/product/{product.pk}")

    refused = seller_client.post("/product/", {"title": ""}, format="json")
    anonymous = api_client.post("/product/", {"title": "x"}, format="json")

    assert (refused.status_code, anonymous.status_code) == (400, 401)
    assert api_client.get(f"/product/{product.pk}")["X-Cache"] == "hit"


def test_catalogue_stock_moves_keep_the_entries_and_show_within_the_ttl(
    api_client, internal_client, settings
):
    """Reservations, commits, releases and expiry change only the counts shown, which may be up
    to the TTL old: they must not empty the cache at the order rate."""
    product = ProductFactory(quantity=5)
    path = f"/product/{product.pk}"
    assert api_client.get(path).json()["quantity"] == 5

    def reserve(order_id: str, quantity: int) -> int:
        body = {
            "orderId": order_id,
            "items": [{"productId": str(product.pk), "quantity": quantity}],
        }
        return internal_client.post("/internal/reservations", body, format="json").status_code

    assert reserve("order-1", 1) == 201
    assert internal_client.post("/internal/reservations/order-1/commit").status_code == 200
    assert reserve("order-2", 1) == 201
    Reservation.objects.filter(order_id="order-2").update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert internal_client.post("/internal/reservations/expire").json() == {"released": 1}
    assert internal_client.post("/internal/reservations/order-1/release").status_code == 200
    assert reserve("order-3", 2) == 201
    cached = api_client.get(path)
    settings.CATALOGUE_CACHE_SECONDS = 0
    fresh = api_client.get(path)

    assert (cached["X-Cache"], cached.json()["quantity"]) == ("hit", 5)
    assert fresh.json()["quantity"] == 3


def test_catalogue_answer_built_while_a_write_lands_is_never_served():
    """The key's generation is taken before the view reads: an answer read before a write
    and stored after it must not outlive the write."""
    product = ProductFactory()
    request = RequestFactory().get(f"/product/{product.pk}")

    def view_during_a_write(_request):
        catalogue_cache.invalidate()  # The write lands while this answer is being built.
        return HttpResponse(b'{"title": "before the write"}', content_type="application/json")

    middleware = catalogue_cache.CatalogueCacheMiddleware(view_during_a_write)
    first = middleware(request)
    second = catalogue_cache.CatalogueCacheMiddleware(lambda _request: HttpResponse(b"{}"))(request)

    assert (first["X-Cache"], second["X-Cache"]) == ("miss", "miss")


def _answer_concurrently(view, count: int = 5) -> list[HttpResponse]:
    middleware = catalogue_cache.CatalogueCacheMiddleware(view)
    request = RequestFactory().get("/product/0123456789abcdef01234567")
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: middleware(request), range(count)))


def test_catalogue_concurrent_misses_for_one_answer_ask_the_store_once():
    calls = []

    def slow_view(_request):
        calls.append(1)
        time.sleep(0.3)
        return HttpResponse(b'{"id": "x"}', content_type="application/json")

    responses = _answer_concurrently(slow_view)

    assert len(calls) == 1
    assert sorted(r["X-Cache"] for r in responses) == ["hit"] * 4 + ["miss"]
    assert {r.content for r in responses} == {b'{"id": "x"}'}


def test_catalogue_requests_waiting_on_a_refused_answer_ask_for_themselves():
    calls = []

    def slow_refusal(_request):
        calls.append(1)
        time.sleep(0.2)
        return HttpResponse(b'{"code": "invalid"}', status=400, content_type="application/json")

    responses = _answer_concurrently(slow_refusal)

    assert len(calls) == 5
    assert {(r.status_code, r["X-Cache"]) for r in responses} == {(400, "miss")}


# --- lifetime -----------------------------------------------------------------------------------


def test_catalogue_entry_expires_after_the_ttl(api_client, settings):
    settings.CATALOGUE_CACHE_SECONDS = 1
    product = ProductFactory(title="Lamp")
    api_client.get(f"/product/{product.pk}")
    _changed_behind_the_cache(product, "Lamp, renamed elsewhere")

    time.sleep(1.1)
    response = api_client.get(f"/product/{product.pk}")

    assert response["X-Cache"] == "miss"
    assert response.json()["title"] == "Lamp, renamed elsewhere"


def test_catalogue_ttl_zero_turns_the_cache_off(api_client, settings):
    settings.CATALOGUE_CACHE_SECONDS = 0
    product = ProductFactory(title="Lamp", category="Books")
    first_list = api_client.get("/product/?category=Books&pageSize=1")
    api_client.get(f"/product/{product.pk}")
    _changed_behind_the_cache(product, "Lamp, renamed elsewhere")
    ProductFactory(category="Books")

    detail = api_client.get(f"/product/{product.pk}")
    second_list = api_client.get("/product/?category=Books&pageSize=1&page=2")

    assert detail.json()["title"] == "Lamp, renamed elsewhere"
    assert "X-Cache" not in detail
    assert "Cache-Control" not in detail
    assert (first_list.json()["count"], second_list.json()["count"]) == (1, 2)


# --- the list totals --------------------------------------------------------------------------


def _all_pages(client: APIClient, path: str) -> tuple[int, list[str]]:
    page = client.get(path).json()
    count, ids = page["count"], [p["id"] for p in page["results"]]
    while page["next"]:
        page = client.get(page["next"]).json()
        ids += [p["id"] for p in page["results"]]
    return count, ids


def test_catalogue_counts_a_filter_once_and_again_after_a_write(api_client, seller_client):
    ProductFactory.create_batch(5, category="Books")
    assert api_client.get("/product/?category=Books&pageSize=2").json()["count"] == 5
    ProductFactory(category="Books")  # Another process's write: not seen here yet.

    # Another page (not the last) and ordering of the same filter: a new answer, the total
    # already known.
    other_page = api_client.get("/product/?category=Books&pageSize=2&page=2&ordering=price")
    created = seller_client.post(
        "/product/",
        {"title": "Atlas", "price": 30, "category": "Books", "quantity": 1, "imageUrl": "i"},
        format="json",
    )
    count, ids = _all_pages(api_client, "/product/?category=Books&pageSize=2")

    assert (other_page["X-Cache"], other_page.json()["count"]) == ("miss", 5)
    assert created.status_code == 201
    assert count == len(ids) == len(set(ids)) == 7
    assert created.json()["id"] in ids


def test_catalogues_last_page_shows_the_total_it_ends_with_not_a_cached_one(api_client):
    ProductFactory.create_batch(3, category="Books")
    assert api_client.get("/product/?category=Books&pageSize=2").json()["count"] == 3
    ProductFactory(category="Books")  # Another process's write: not seen here yet.

    # The last page is read to its end, so its total is what it ends with, never a stale one.
    last_page = api_client.get("/product/?category=Books&pageSize=2&page=2&ordering=price")

    assert (last_page["X-Cache"], last_page.json()["count"]) == ("miss", 4)
    assert len(last_page.json()["results"]) == 2
