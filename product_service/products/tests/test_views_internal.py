"""The internal stock API: X-Internal-Token, reservations, commit, release, expire, old commit."""

from datetime import timedelta

import pytest
from django.utils import timezone

from products.constants import ReservationState
from products.models import Product, Reservation
from products.tests.factories import ProductFactory, ReservationFactory


def stock_of(product: Product) -> tuple[int, int, int]:
    product.refresh_from_db()
    return product.quantity, product.reserved, product.sold


def reservation_body(order_id: str, *lines: tuple[object, object], **extra) -> dict:
    return {
        "orderId": order_id,
        "items": [{"productId": str(pid), "quantity": qty} for pid, qty in lines],
        **extra,
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/internal/reservations"),
        ("get", "/internal/reservations/order-1"),
        ("post", "/internal/reservations/order-1/commit"),
        ("post", "/internal/reservations/order-1/release"),
        ("post", "/internal/reservations/expire"),
        ("put", "/internal/product/0123456789abcdef01234567/quantity"),
    ],
)
def test_internal_routes_refuse_calls_without_a_valid_internal_token(api_client, method, path):
    missing = getattr(api_client, method)(path, {}, format="json")
    api_client.credentials(HTTP_X_INTERNAL_TOKEN="wrong")
    wrong = getattr(api_client, method)(path, {}, format="json")

    assert missing.status_code == 401
    assert missing.json()["code"] == "not_authenticated"
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "authentication_failed"


def test_internal_routes_accept_the_previous_token_during_rotation(api_client, settings):
    api_client.credentials(HTTP_X_INTERNAL_TOKEN=settings.INTERNAL_API_TOKENS[1])

    response = api_client.post("/internal/reservations/expire")

    assert response.status_code == 200


def test_user_tokens_do_not_open_internal_routes(seller_client):
    response = seller_client.post("/internal/reservations/expire")

    assert response.status_code == 401


def test_reservation_create_answers_201_with_prices_and_titles(internal_client):
    product = ProductFactory(quantity=10, price="19.99", title="Lamp")

    response = internal_client.post(
        "/internal/reservations",
        reservation_body("order-1", (product.pk, 2), ttlSeconds=600),
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["orderId"] == "order-1"
    assert body["status"] == "reserved"
    assert body["items"] == [
        {"productId": str(product.pk), "title": "Lamp", "unitPrice": 19.99, "quantity": 2}
    ]
    assert stock_of(product) == (8, 2, 0)


def test_reservation_create_repeat_answers_200_with_the_same_body(internal_client):
    product = ProductFactory(quantity=10)
    body = reservation_body("order-1", (product.pk, 2))
    first = internal_client.post("/internal/reservations", body, format="json")

    again = internal_client.post("/internal/reservations", body, format="json")

    assert again.status_code == 200
    assert again.json() == first.json()
    assert stock_of(product) == (8, 2, 0)


def test_reservation_create_answers_409_and_reserves_nothing_when_short(internal_client):
    plenty = ProductFactory(quantity=10)
    scarce = ProductFactory(quantity=1)

    response = internal_client.post(
        "/internal/reservations",
        reservation_body("order-1", (plenty.pk, 3), (scarce.pk, 2)),
        format="json",
    )

    assert response.status_code == 409
    assert response.json() == {
        "message": "not sufficient inventory",
        "code": "insufficient_stock",
        "errors": {str(scarce.pk): "Only 1 available, 2 requested."},
    }
    assert stock_of(plenty) == (10, 0, 0)
    assert stock_of(scarce) == (1, 0, 0)


def test_reservation_create_rejects_an_unknown_product(internal_client):
    response = internal_client.post(
        "/internal/reservations",
        reservation_body("order-1", ("0123456789abcdef01234567", 1)),
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "unknown_product"


@pytest.mark.parametrize(
    "items",
    [
        [],
        [{"productId": "not-an-object-id", "quantity": 1}],
        [{"productId": "0123456789abcdef01234567", "quantity": 0}],
        [{"productId": "0123456789abcdef01234567", "quantity": -1}],
        [{"productId": "0123456789abcdef01234567", "quantity": 1.5}],
        [{"productId": "0123456789abcdef01234567", "quantity": True}],
        [{"productId": "0123456789abcdef01234567", "quantity": "two"}],
        [{"productId": {"$ne": None}, "quantity": 1}],
        "everything",
    ],
)
def test_reservation_create_rejects_bad_items_and_changes_nothing(internal_client, items):
    product = ProductFactory(quantity=5)

    response = internal_client.post(
        "/internal/reservations", {"orderId": "order-1", "items": items}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert stock_of(product) == (5, 0, 0)
    assert not Reservation.objects.exists()


@pytest.mark.parametrize(
    "extra",
    [
        {"orderId": ""},
        {"orderId": "../x"},
        {"orderId": 12},
        {"ttlSeconds": 0},
        {"ttlSeconds": 10**9},
    ],
)
def test_reservation_create_rejects_a_bad_order_id_or_lifetime(internal_client, extra):
    product = ProductFactory(quantity=5)
    body = {**reservation_body("order-1", (product.pk, 1)), **extra}

    response = internal_client.post("/internal/reservations", body, format="json")

    assert response.status_code == 400
    assert stock_of(product) == (5, 0, 0)


def test_reservation_create_rejects_a_body_that_is_not_json(internal_client):
    response = internal_client.post(
        "/internal/reservations", "{oops", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


def test_reservation_detail_shows_the_reservation(internal_client):
    product = ProductFactory(quantity=5)
    internal_client.post(
        "/internal/reservations", reservation_body("order-1", (product.pk, 1)), format="json"
    )

    response = internal_client.get("/internal/reservations/order-1")
    missing = internal_client.get("/internal/reservations/order-2")

    assert response.status_code == 200
    assert response.json()["status"] == "reserved"
    assert missing.status_code == 404


def test_reservation_detail_of_one_interrupted_before_holding_stock_has_no_prices_yet(
    internal_client, monkeypatch
):
    from products import stock

    product = ProductFactory(quantity=5)

    def die(*args: object) -> None:
        raise RuntimeError("the process died here")

    # Titles and prices come from the holds, which this reservation never reached.
    with monkeypatch.context() as patch:
        patch.setattr(stock, "_take_stock", die)
        with pytest.raises(RuntimeError):
            internal_client.post(
                "/internal/reservations",
                reservation_body("order-1", (product.pk, 1)),
                format="json",
            )

    response = internal_client.get("/internal/reservations/order-1")

    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    assert response.json()["items"] == [
        {"productId": str(product.pk), "title": None, "unitPrice": None, "quantity": 1}
    ]


def test_commit_answers_committed_and_a_repeat_changes_nothing(internal_client):
    product = ProductFactory(quantity=5)
    internal_client.post(
        "/internal/reservations", reservation_body("order-1", (product.pk, 2)), format="json"
    )

    first = internal_client.post("/internal/reservations/order-1/commit")
    again = internal_client.post("/internal/reservations/order-1/commit")

    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() == {"orderId": "order-1", "status": "committed"}
    assert stock_of(product) == (3, 0, 2)


def test_commit_of_an_unknown_order_is_404(internal_client):
    response = internal_client.post("/internal/reservations/nope/commit")

    assert response.status_code == 404
    assert response.json()["code"] == "reservation_not_found"


@pytest.mark.parametrize("order_id", ["%ED%A0%80", "a" * 65, "-leading-dash"])
def test_commit_and_release_of_an_impossible_order_id_are_404(internal_client, order_id):
    commit = internal_client.post(f"/internal/reservations/{order_id}/commit")
    release = internal_client.post(f"/internal/reservations/{order_id}/release")

    assert (commit.status_code, release.status_code) == (404, 404)


def test_commit_of_a_released_reservation_is_409(internal_client):
    ReservationFactory(order_id="order-1", state=ReservationState.RELEASED)

    response = internal_client.post("/internal/reservations/order-1/commit")

    assert response.status_code == 409
    assert response.json()["code"] == "reservation_not_active"


def test_release_answers_released_and_a_repeat_changes_nothing(internal_client):
    product = ProductFactory(quantity=5)
    internal_client.post(
        "/internal/reservations", reservation_body("order-1", (product.pk, 2)), format="json"
    )

    first = internal_client.post("/internal/reservations/order-1/release")
    again = internal_client.post("/internal/reservations/order-1/release")

    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() == {"orderId": "order-1", "status": "released"}
    assert stock_of(product) == (5, 0, 0)


def test_release_after_commit_returns_the_sold_stock(internal_client):
    product = ProductFactory(quantity=5)
    internal_client.post(
        "/internal/reservations", reservation_body("order-1", (product.pk, 2)), format="json"
    )
    internal_client.post("/internal/reservations/order-1/commit")

    response = internal_client.post("/internal/reservations/order-1/release")

    assert response.json() == {"orderId": "order-1", "status": "released"}
    assert stock_of(product) == (5, 0, 0)


def test_release_of_an_unknown_order_is_404(internal_client):
    assert internal_client.post("/internal/reservations/nope/release").status_code == 404


def test_expire_releases_reservations_past_their_lifetime(internal_client):
    product = ProductFactory(quantity=5)
    internal_client.post(
        "/internal/reservations", reservation_body("order-1", (product.pk, 2)), format="json"
    )
    Reservation.objects.filter(order_id="order-1").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    response = internal_client.post("/internal/reservations/expire")
    again = internal_client.post("/internal/reservations/expire")

    assert response.json() == {"released": 1}
    assert again.json() == {"released": 0}
    assert stock_of(product) == (5, 0, 0)
    assert internal_client.get("/internal/reservations/order-1").json()["status"] == "expired"


def test_expire_reservations_command_releases_expired_stock(capsys):
    from django.core.management import call_command

    from products import stock

    product = ProductFactory(quantity=5)
    stock.reservation_create(
        order_id="order-1", lines=[stock.StockLine(product.pk, 2)], ttl_seconds=60
    )
    Reservation.objects.filter(order_id="order-1").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    call_command("expire_reservations")

    assert "Released 1 expired reservation(s)." in capsys.readouterr().out
    assert stock_of(product) == (5, 0, 0)


def test_old_quantity_commit_subtracts_available_stock_once_per_order(internal_client):
    product = ProductFactory(quantity=5)
    path = f"/internal/product/{product.pk}/quantity"

    first = internal_client.put(path, {"quantity": 2, "orderId": "order-1"}, format="json")
    again = internal_client.put(path, {"quantity": 2, "orderId": "order-1"}, format="json")

    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert first.json()["status"] == "committed"
    assert stock_of(product) == (3, 0, 2)


def test_old_quantity_commit_refuses_more_than_available(internal_client):
    product = ProductFactory(quantity=1)

    response = internal_client.put(
        f"/internal/product/{product.pk}/quantity",
        {"quantity": 2, "orderId": "order-1"},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"
    assert stock_of(product) == (1, 0, 0)


@pytest.mark.parametrize("quantity", [0, -3, 1.5, True, "x", None])
def test_old_quantity_commit_requires_a_positive_integer(internal_client, quantity):
    product = ProductFactory(quantity=5)

    response = internal_client.put(
        f"/internal/product/{product.pk}/quantity",
        {"quantity": quantity, "orderId": "order-1"},
        format="json",
    )

    assert response.status_code == 400
    assert stock_of(product) == (5, 0, 0)


def test_old_quantity_commit_of_a_malformed_or_unknown_product(internal_client):
    body = {"quantity": 1, "orderId": "order-1"}

    malformed = internal_client.put("/internal/product/xyz/quantity", body, format="json")
    unknown = internal_client.put(
        "/internal/product/0123456789abcdef01234567/quantity", body, format="json"
    )

    assert malformed.status_code == 404
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "unknown_product"


def test_a_repeat_while_the_first_reservation_is_still_being_made_is_409(
    internal_client, monkeypatch
):
    from products import stock

    monkeypatch.setattr(stock, "IN_PROGRESS_WAIT_SECONDS", 0.1)
    product = ProductFactory(quantity=5)
    ReservationFactory(order_id="order-1", state=ReservationState.PENDING)

    response = internal_client.post(
        "/internal/reservations", reservation_body("order-1", (product.pk, 1)), format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "reservation_in_progress"
    assert stock_of(product) == (5, 0, 0)
