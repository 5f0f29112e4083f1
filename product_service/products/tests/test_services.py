"""Catalogue writes: a seller's restock races reservations and releases and loses none of them."""

import random
from functools import partial

import pytest

from products import services, stock
from products.errors import InsufficientStock, ReservationNotActive, StockChanged
from products.models import Product, Reservation
from products.tests.factories import ProductFactory
from products.tests.test_stock import reserve, run_together, stock_of


def test_product_update_restock_keeps_a_reservation_made_after_the_seller_read_the_stock():
    product = ProductFactory(quantity=10)
    seen = Product.objects.get(pk=product.pk)  # What the seller's request read.
    reserve("order-1", (product, 3))

    updated = services.product_update(product=seen, changes={"quantity": 15})

    # Five more to sell than the seller saw; the order's three stay reserved.
    assert updated.quantity == 12
    assert stock_of(product) == (12, 3, 0)


def test_product_update_restock_keeps_a_release_landing_after_the_seller_read_the_stock():
    product = ProductFactory(quantity=10)
    reserve("order-1", (product, 4))
    seen = Product.objects.get(pk=product.pk)
    stock.reservation_release(order_id="order-1")

    services.product_update(product=seen, changes={"quantity": 3, "title": "Fewer"})

    assert stock_of(product) == (7, 0, 0)
    assert Product.objects.get(pk=product.pk).title == "Fewer"


def test_product_update_refuses_to_take_off_sale_more_than_is_left_and_changes_nothing():
    product = ProductFactory(quantity=10, title="Lamp")
    seen = Product.objects.get(pk=product.pk)
    reserve("order-1", (product, 8))

    with pytest.raises(StockChanged) as refused:
        services.product_update(product=seen, changes={"quantity": 5, "title": "Renamed"})

    assert (refused.value.status_code, refused.value.code) == (409, "stock_changed")
    assert refused.value.errors == {
        "quantity": "Only 2 available now, so 5 cannot be taken off sale."
    }
    assert stock_of(product) == (2, 8, 0)
    assert Product.objects.get(pk=product.pk).title == "Lamp"


def test_concurrent_restocks_reservations_and_releases_all_add_up():
    rng = random.Random(5)
    product = ProductFactory(quantity=20)
    restocks = [rng.choice([-2, 1, 3, 5]) for _ in range(20)]

    def restock(change: int) -> int:
        seen = Product.objects.get(pk=product.pk)
        services.product_update(product=seen, changes={"quantity": seen.quantity + change})
        return change

    def reserve_then_release(n: int) -> None:
        reserve(f"order-{n}", (product, 2))
        if n % 2:
            stock.reservation_release(order_id=f"order-{n}")

    results = run_together(
        *[partial(restock, change) for change in restocks],
        *[partial(reserve_then_release, n) for n in range(20)],
    )

    failures = [result for result in results if isinstance(result, Exception)]
    assert all(
        isinstance(f, StockChanged | InsufficientStock | ReservationNotActive) for f in failures
    )
    applied = sum(result for result in results if isinstance(result, int))
    held = sum(2 for r in Reservation.objects.filter(state="reserved") for _ in r.items)
    quantity, reserved, sold = stock_of(product)
    # Every applied restock and every reservation still open is there, none overwritten.
    assert quantity + reserved + sold == 20 + applied
    assert (reserved, sold) == (held, 0)
    assert quantity >= 0
