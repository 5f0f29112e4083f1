"""Stock services: reserve all or nothing, commit, release, expire, the old single commit."""

from datetime import timedelta

import pytest
from django.utils import timezone

from products import stock
from products.constants import ReservationState
from products.errors import (
    InsufficientStock,
    OrderIdReused,
    ReservationNotActive,
    ReservationNotFound,
    UnknownProduct,
)
from products.models import Product, Reservation
from products.tests.factories import ProductFactory


def stock_of(product: Product) -> tuple[int, int, int]:
    product.refresh_from_db()
    return product.quantity, product.reserved, product.sold


def reserve(order_id: str, *lines: tuple[Product, int], ttl: int = 900):
    return stock.reservation_create(
        order_id=order_id,
        lines=[stock.StockLine(product.pk, quantity) for product, quantity in lines],
        ttl_seconds=ttl,
    )


def test_reservation_create_moves_available_stock_to_reserved():
    product = ProductFactory(quantity=10)

    reservation, created = reserve("order-1", (product, 3))

    assert created is True
    assert reservation.state == ReservationState.RESERVED
    assert stock_of(product) == (7, 3, 0)
    assert reservation.items == [
        {
            "productId": str(product.pk),
            "title": product.title,
            "unitPrice": "10.00",
            "quantity": 3,
        }
    ]


def test_reservation_create_repeated_for_the_same_order_changes_nothing():
    product = ProductFactory(quantity=10)
    first, _ = reserve("order-1", (product, 3))

    again, created = reserve("order-1", (product, 3))

    assert created is False
    assert again.pk == first.pk
    assert stock_of(product) == (7, 3, 0)


def test_reservation_create_reserves_nothing_when_one_item_is_short():
    plenty = ProductFactory(quantity=10)
    scarce = ProductFactory(quantity=1)

    with pytest.raises(InsufficientStock) as excinfo:
        reserve("order-1", (plenty, 2), (scarce, 2))

    assert excinfo.value.errors == {str(scarce.pk): "Only 1 available, 2 requested."}
    assert stock_of(plenty) == (10, 0, 0)
    assert stock_of(scarce) == (1, 0, 0)
    assert not Reservation.objects.filter(order_id="order-1").exists()


def test_reservation_create_after_a_refusal_can_succeed_for_the_same_order():
    scarce = ProductFactory(quantity=1)
    with pytest.raises(InsufficientStock):
        reserve("order-1", (scarce, 2))

    _, created = reserve("order-1", (scarce, 1))

    assert created is True
    assert stock_of(scarce) == (0, 1, 0)


def test_reservation_create_merges_repeated_lines_of_one_product():
    product = ProductFactory(quantity=5)

    reservation, _ = reserve("order-1", (product, 2), (product, 3))

    assert stock_of(product) == (0, 5, 0)
    assert [item["quantity"] for item in reservation.items] == [5]


def test_reservation_create_rejects_an_unknown_product_and_reserves_nothing():
    product = ProductFactory(quantity=5)
    missing = ProductFactory()
    missing_id = missing.pk
    missing.delete()

    with pytest.raises(UnknownProduct) as excinfo:
        stock.reservation_create(
            order_id="order-1",
            lines=[stock.StockLine(product.pk, 1), stock.StockLine(missing_id, 1)],
            ttl_seconds=60,
        )

    assert excinfo.value.errors == {str(missing_id): "No such product."}
    assert stock_of(product) == (5, 0, 0)


def test_reservation_commit_turns_reserved_stock_into_sold_once():
    product = ProductFactory(quantity=10)
    reserve("order-1", (product, 4))

    first = stock.reservation_commit(order_id="order-1")
    again = stock.reservation_commit(order_id="order-1")

    assert first.state == again.state == ReservationState.COMMITTED
    assert stock_of(product) == (6, 0, 4)


def test_reservation_commit_of_an_unknown_order_is_not_found():
    with pytest.raises(ReservationNotFound):
        stock.reservation_commit(order_id="nope")


def test_reservation_commit_after_release_is_refused_and_changes_nothing():
    product = ProductFactory(quantity=10)
    reserve("order-1", (product, 4))
    stock.reservation_release(order_id="order-1")

    with pytest.raises(ReservationNotActive):
        stock.reservation_commit(order_id="order-1")

    assert stock_of(product) == (10, 0, 0)


def test_reservation_release_returns_reserved_stock_once():
    product = ProductFactory(quantity=10)
    reserve("order-1", (product, 4))

    first = stock.reservation_release(order_id="order-1")
    again = stock.reservation_release(order_id="order-1")

    assert first.state == again.state == ReservationState.RELEASED
    assert stock_of(product) == (10, 0, 0)


def test_reservation_release_of_a_committed_reservation_returns_the_sold_stock():
    product = ProductFactory(quantity=10)
    reserve("order-1", (product, 4))
    stock.reservation_commit(order_id="order-1")

    stock.reservation_release(order_id="order-1")
    stock.reservation_release(order_id="order-1")

    assert stock_of(product) == (10, 0, 0)


def test_reservation_release_of_an_unknown_order_is_not_found():
    with pytest.raises(ReservationNotFound):
        stock.reservation_release(order_id="nope")


def test_reservations_expire_releases_only_reservations_past_their_lifetime():
    product = ProductFactory(quantity=10)
    reserve("old", (product, 2))
    reserve("fresh", (product, 3))
    Reservation.objects.filter(order_id="old").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert stock.reservations_expire() == 1
    assert stock.reservations_expire() == 0

    assert stock_of(product) == (7, 3, 0)
    assert Reservation.objects.get(order_id="old").state == ReservationState.EXPIRED
    assert Reservation.objects.get(order_id="fresh").state == ReservationState.RESERVED


def test_reservations_expire_leaves_committed_reservations_alone():
    product = ProductFactory(quantity=10)
    reserve("order-1", (product, 2), ttl=1)
    stock.reservation_commit(order_id="order-1")

    assert stock.reservations_expire(now=timezone.now() + timedelta(hours=1)) == 0
    assert stock_of(product) == (8, 0, 2)


def test_reservations_expire_undoes_a_reservation_interrupted_while_pending():
    product = ProductFactory(quantity=10)
    reserve("order-1", (product, 2))
    # As if the process died after taking the stock but before recording success.
    Reservation.objects.filter(order_id="order-1").update(state=ReservationState.PENDING)

    assert stock.reservations_expire(now=timezone.now() + timedelta(minutes=5)) == 1
    assert stock_of(product) == (10, 0, 0)


def test_commit_of_an_expired_reservation_is_refused():
    product = ProductFactory(quantity=10)
    reserve("order-1", (product, 2), ttl=1)
    stock.reservations_expire(now=timezone.now() + timedelta(minutes=1))

    with pytest.raises(ReservationNotActive):
        stock.reservation_commit(order_id="order-1")
    assert stock_of(product) == (10, 0, 0)


def test_product_quantity_commit_sells_available_stock_once_per_order():
    product = ProductFactory(quantity=5)

    stock.product_quantity_commit(product_id=product.pk, order_id="order-1", quantity=2)
    again = stock.product_quantity_commit(product_id=product.pk, order_id="order-1", quantity=2)

    assert again.state == ReservationState.COMMITTED
    assert stock_of(product) == (3, 0, 2)


def test_product_quantity_commit_refuses_more_than_available():
    product = ProductFactory(quantity=1)

    with pytest.raises(InsufficientStock):
        stock.product_quantity_commit(product_id=product.pk, order_id="order-1", quantity=2)

    assert stock_of(product) == (1, 0, 0)
    assert not Reservation.objects.filter(order_id="order-1").exists()


def test_product_quantity_commit_commits_the_orders_reservation():
    product = ProductFactory(quantity=5)
    reserve("order-1", (product, 2))

    stock.product_quantity_commit(product_id=product.pk, order_id="order-1", quantity=2)

    assert stock_of(product) == (3, 0, 2)


def test_product_quantity_commit_refuses_an_order_id_used_for_another_product():
    product = ProductFactory(quantity=5)
    other = ProductFactory(quantity=5)
    reserve("order-1", (product, 2))

    with pytest.raises(OrderIdReused):
        stock.product_quantity_commit(product_id=other.pk, order_id="order-1", quantity=1)
    assert stock_of(other) == (5, 0, 0)


def test_stock_adds_up_through_every_operation():
    products = [ProductFactory(quantity=20) for _ in range(3)]
    reserve("a", (products[0], 3), (products[1], 4))
    reserve("b", (products[1], 5), (products[2], 6))
    reserve("c", (products[0], 1), ttl=1)
    stock.reservation_commit(order_id="a")
    stock.reservation_release(order_id="b")
    stock.reservations_expire(now=timezone.now() + timedelta(minutes=1))
    stock.product_quantity_commit(product_id=products[2].pk, order_id="d", quantity=2)
    stock.reservation_release(order_id="a")
    with pytest.raises(InsufficientStock):
        reserve("e", (products[0], 1), (products[2], 100))

    for product in products:
        quantity, reserved, sold = stock_of(product)
        assert quantity + reserved + sold == 20
        assert min(quantity, reserved, sold) >= 0
    assert [stock_of(p) for p in products] == [(20, 0, 0), (20, 0, 0), (18, 0, 2)]


def test_reservation_release_while_pending_wins_and_the_stock_comes_back():
    product = ProductFactory(quantity=10)
    reserve("order-1", (product, 2))
    # A release that lands while the reservation is still being made (state pending).
    Reservation.objects.filter(order_id="order-1").update(state=ReservationState.PENDING)

    released = stock.reservation_release(order_id="order-1")

    assert released.state == ReservationState.RELEASED
    assert stock_of(product) == (10, 0, 0)
    with pytest.raises(ReservationNotActive):
        stock.reservation_commit(order_id="order-1")


def test_reservation_commit_finishes_a_commit_interrupted_before_moving_stock():
    product = ProductFactory(quantity=10)
    reserve("order-1", (product, 2))
    # As if the process died right after recording the commit.
    Reservation.objects.filter(order_id="order-1").update(state=ReservationState.COMMITTED)
    assert stock_of(product) == (8, 2, 0)

    stock.reservation_commit(order_id="order-1")

    assert stock_of(product) == (8, 0, 2)


def test_reservations_expire_works_through_a_backlog_in_batches():
    product = ProductFactory(quantity=10)
    for order_id in ("a", "b", "c"):
        reserve(order_id, (product, 1), ttl=1)
    later = timezone.now() + timedelta(minutes=1)

    counts = [stock.reservations_expire(now=later, limit=2) for _ in range(3)]

    assert counts == [2, 1, 0]
    assert stock_of(product) == (10, 0, 0)


def test_reservation_create_repeated_after_a_release_is_refused_and_reserves_nothing():
    product = ProductFactory(quantity=10)
    reserve("order-1", (product, 3))
    stock.reservation_release(order_id="order-1")

    with pytest.raises(ReservationNotActive):
        reserve("order-1", (product, 3))

    assert stock_of(product) == (10, 0, 0)


def test_reservations_expire_prunes_old_sales_from_the_ledger(settings):
    settings.STOCK_SALES_LEDGER_RETENTION_HOURS = 1
    product = ProductFactory(quantity=10)
    reserve("order-1", (product, 2))
    stock.reservation_commit(order_id="order-1")

    stock.reservations_expire(now=timezone.now() + timedelta(hours=2))
    stock.reservation_release(order_id="order-1")

    # Past the retention the sale is final: the late release returns nothing.
    assert stock_of(product) == (8, 0, 2)
