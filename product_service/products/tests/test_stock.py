"""Stock services: reserve all or nothing, commit, release, expire, the old single commit."""

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from typing import Any

import bson
import pytest
from django.db import connection
from django.utils import timezone
from pymongo import monitoring

from products import stock
from products.constants import ReservationState
from products.errors import (
    InsufficientStock,
    OrderIdReused,
    ReservationInProgress,
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


def product_document(product: Product) -> dict[str, Any]:
    """The product's raw document, with the fields the ORM does not map."""
    return connection.database[Product._meta.db_table].find_one({"_id": product.pk})


def run_together(*calls: Callable[[], object]) -> list[object]:
    """Run every call on its own thread, all released at once; return results or exceptions."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], object]) -> object:
        start.wait()
        try:
            return call()
        except Exception as exc:  # The caller asserts on what each call raised.
            return exc

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


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


def test_reservation_release_long_after_the_commit_still_returns_the_sold_stock_once():
    product = ProductFactory(quantity=10)
    reserve("kept", (product, 3))
    stock.reservation_commit(order_id="kept")
    reserve("order-1", (product, 2))
    stock.reservation_commit(order_id="order-1")
    stock.reservations_expire(now=timezone.now() + timedelta(days=3))

    stock.reservation_release(order_id="order-1")
    stock.reservation_release(order_id="order-1")

    # The reservation is the record of the sale, however old; the other order's sale stays.
    assert stock_of(product) == (7, 0, 3)


def test_no_sales_ledger_grows_on_the_product_however_many_orders_it_sells():
    product = ProductFactory(quantity=1000)
    reserve("first", (product, 1))
    stock.reservation_commit(order_id="first")
    # A sale given back leaves its (empty) list of release tokens: part of the fixed shape.
    stock.product_quantity_commit(product_id=product.pk, order_id="first-returned", quantity=1)
    stock.reservation_release(order_id="first-returned")
    size_after_one_sale = len(bson.encode(product_document(product)))

    for n in range(60):
        order_id = f"order-{n}"
        if n % 3:
            reserve(order_id, (product, 2))
            stock.reservation_commit(order_id=order_id)
        else:
            stock.product_quantity_commit(product_id=product.pk, order_id=order_id, quantity=2)
        if n % 5 == 0:
            stock.reservation_release(order_id=order_id)
    stock.reservations_expire(now=timezone.now() + timedelta(days=1))

    document = product_document(product)
    assert "sales" not in document
    assert document["holds"] == []
    assert len(bson.encode(document)) == size_after_one_sale
    # 60 orders of 2, 12 of them released, plus the first order's 1.
    assert stock_of(product) == (903, 0, 97)


def test_holds_on_the_product_are_only_those_of_open_reservations():
    product = ProductFactory(quantity=10)
    for order_id in ("committed", "released", "expired", "open"):
        reserve(order_id, (product, 1), ttl=1 if order_id == "expired" else 900)
    stock.reservation_commit(order_id="committed")
    stock.reservation_release(order_id="released")
    stock.reservations_expire(now=timezone.now() + timedelta(minutes=1))

    assert product_document(product)["holds"] == [{"orderId": "open", "quantity": 1}]
    assert stock_of(product) == (8, 1, 1)


def test_concurrent_releases_of_a_committed_order_return_its_stock_exactly_once():
    product = ProductFactory(quantity=20)
    for order_id, quantity in (("kept", 6), ("cancelled", 4)):
        reserve(order_id, (product, quantity))
        stock.reservation_commit(order_id=order_id)

    results = run_together(*[partial(stock.reservation_release, order_id="cancelled")] * 12)
    stock.reservation_release(order_id="cancelled")

    assert {result.state for result in results} == {ReservationState.RELEASED}
    # A second return would have taken the other order's sold units.
    assert stock_of(product) == (14, 0, 6)


def test_a_release_racing_the_commit_of_each_order_leaves_the_stock_consistent():
    product = ProductFactory(quantity=50)
    reserve("kept", (product, 10))
    stock.reservation_commit(order_id="kept")
    orders = [f"race-{n}" for n in range(15)]
    for order_id in orders:
        reserve(order_id, (product, 2))

    for order_id in orders:
        commit, release, release_again = run_together(
            partial(stock.reservation_commit, order_id=order_id),
            partial(stock.reservation_release, order_id=order_id),
            partial(stock.reservation_release, order_id=order_id),
        )
        # Whichever lands first, the commit either happened (and was undone) or was refused.
        assert isinstance(commit, ReservationNotActive) or commit.state == "committed"
        assert release.state == release_again.state == ReservationState.RELEASED

    assert stock_of(product) == (40, 0, 10)
    assert product_document(product)["holds"] == []
    assert set(Reservation.objects.filter(order_id__in=orders).values_list("state", flat=True)) == {
        ReservationState.RELEASED
    }


def test_reservation_release_after_a_commit_interrupted_before_moving_stock_gives_back_the_hold():
    product = ProductFactory(quantity=10)
    reserve("kept", (product, 3))
    stock.reservation_commit(order_id="kept")
    reserve("order-1", (product, 2))
    # As if the commit's process died right after recording the commit.
    Reservation.objects.filter(order_id="order-1").update(state=ReservationState.COMMITTED)

    stock.reservation_release(order_id="order-1")
    with pytest.raises(ReservationNotActive):
        stock.reservation_commit(order_id="order-1")

    assert stock_of(product) == (7, 0, 3)


class Crash(Exception):
    """The process dying at this point of an operation."""


def crash_at(monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    def die(*args: object, **kwargs: object) -> None:
        raise Crash(step)

    monkeypatch.setattr(stock, step, die)


def test_reservations_expire_undoes_an_old_quantity_commit_interrupted_before_its_state_move(
    monkeypatch,
):
    product = ProductFactory(quantity=10)
    stock.product_quantity_commit(product_id=product.pk, order_id="sold", quantity=3)
    with monkeypatch.context() as patch:
        crash_at(patch, "_move_state")
        with pytest.raises(Crash):
            stock.product_quantity_commit(product_id=product.pk, order_id="order-1", quantity=2)
    assert Reservation.objects.get(order_id="order-1").state == ReservationState.PENDING
    assert stock_of(product) == (5, 2, 3)

    assert stock.reservations_expire(now=timezone.now() + timedelta(minutes=5)) == 1

    # Only the held units come back; the other order's sale is not taken for this one.
    assert stock_of(product) == (7, 0, 3)
    with pytest.raises(ReservationNotActive):
        stock.product_quantity_commit(product_id=product.pk, order_id="order-1", quantity=2)
    assert stock_of(product) == (7, 0, 3)


def test_product_quantity_commit_repeated_finishes_one_interrupted_after_its_state_move(
    monkeypatch,
):
    product = ProductFactory(quantity=10)
    with monkeypatch.context() as patch:
        crash_at(patch, "_sell_held")
        with pytest.raises(Crash):
            stock.product_quantity_commit(product_id=product.pk, order_id="order-1", quantity=2)
    assert stock_of(product) == (8, 2, 0)

    again = stock.product_quantity_commit(product_id=product.pk, order_id="order-1", quantity=2)

    assert again.state == ReservationState.COMMITTED
    assert stock_of(product) == (8, 0, 2)
    stock.reservation_release(order_id="order-1")
    assert stock_of(product) == (10, 0, 0)


def test_stock_adds_up_after_a_concurrent_mix_of_every_operation():
    rng = random.Random(7)
    products = [ProductFactory(quantity=30) for _ in range(3)]
    orders = {
        f"mix-{n}": [
            (product, rng.randint(1, 3)) for product in rng.sample(products, 2)[: n % 2 + 1]
        ]
        for n in range(40)
    }
    reserved = run_together(
        *[partial(reserve, order_id, *lines) for order_id, lines in orders.items()]
    )
    assert all(isinstance(result, tuple | InsufficientStock) for result in reserved)
    assert any(isinstance(result, InsufficientStock) for result in reserved)

    calls: list[Callable[[], object]] = []
    for order_id, result in zip(orders, reserved, strict=True):
        if isinstance(result, tuple):
            for action in rng.choice([(), ("commit",), ("release",), ("commit", "release")]):
                calls.append(partial(getattr(stock, f"reservation_{action}"), order_id=order_id))
    for n in range(10):
        calls.append(
            partial(
                stock.product_quantity_commit,
                product_id=rng.choice(products).pk,
                order_id=f"old-{n}",
                quantity=rng.randint(1, 2),
            )
        )
    calls += [partial(stock.reservations_expire, now=timezone.now() + timedelta(hours=1))] * 3
    results = run_together(*calls)

    assert all(
        not isinstance(result, Exception)
        or isinstance(result, ReservationNotActive | InsufficientStock)
        for result in results
    ), results
    reservations = list(Reservation.objects.all())
    assert ReservationState.PENDING not in {r.state for r in reservations}
    for product in products:
        document = product_document(product)
        units = dict.fromkeys(ReservationState, 0)
        holders = set()
        for reservation in reservations:
            for item in reservation.items:
                if item["productId"] == str(product.pk):
                    units[reservation.state] += item["quantity"]
                    if reservation.state == ReservationState.RESERVED:
                        holders.add(reservation.order_id)
        # The reservations are the record: sold and reserved are exactly what they say.
        assert (document["reserved"], document["sold"]) == (
            units[ReservationState.RESERVED],
            units[ReservationState.COMMITTED],
        )
        assert document["quantity"] + document["reserved"] + document["sold"] == 30
        assert document["quantity"] >= 0
        assert {hold["orderId"] for hold in document["holds"]} == holders
        assert "sales" not in document


class StoreCommands(monitoring.CommandListener):
    """Records the name of every command sent to the store: each is one round trip."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.names.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def of(self, call: Callable[[], object]) -> list[str]:
        self.names.clear()
        call()
        return list(self.names)


@pytest.fixture
def store_commands():
    """Django's MongoDB connection, reconnected with a client that reports every command."""
    listener = StoreCommands()
    options = connection.settings_dict["OPTIONS"]
    connection.close_pool()
    connection.settings_dict["OPTIONS"] = {**options, "event_listeners": [listener]}
    try:
        yield listener
    finally:
        connection.close_pool()
        connection.settings_dict["OPTIONS"] = options


def test_each_stock_operation_takes_few_store_round_trips(store_commands):
    product = ProductFactory(quantity=10)
    other = ProductFactory(quantity=10)
    commands_of = store_commands.of

    counted = {
        "reserve one product": commands_of(partial(reserve, "a", (product, 1))),
        "reserve two products": commands_of(partial(reserve, "b", (product, 1), (other, 1))),
        "commit": commands_of(partial(stock.reservation_commit, order_id="a")),
        "release reserved": commands_of(partial(stock.reservation_release, order_id="b")),
        "release committed": commands_of(partial(stock.reservation_release, order_id="a")),
        "old quantity commit": commands_of(
            partial(stock.product_quantity_commit, product_id=product.pk, order_id="c", quantity=1)
        ),
    }

    # Only indexed commands: no findAndModify, which SecantusDB answers with a collection scan
    # (see stock._move_state_of). A hold reads the title and price after it moves the stock.
    assert counted == {
        "reserve one product": ["insert", "update", "find", "update"],
        "reserve two products": ["insert", "update", "find", "update", "find", "update"],
        "commit": ["update", "find", "update"],
        "release reserved": ["update", "find", "update", "update"],
        # Not pending or reserved, so read; a token on the product, the move out of committed
        # recording it; the commit had turned the hold into a sale: no hold to give back, then
        # the sold units with the token; the line marked returned.
        "release committed": ["update", "find", "update", "update", "update", "update", "update"],
        "old quantity commit": ["insert", "update", "find", "update", "update"],
    }


# --- interrupted releases and expiries --------------------------------------------------------


def crash_after(monkeypatch: pytest.MonkeyPatch, step: str, *, calls: int = 1) -> None:
    """The process dying right after the ``calls``-th call of ``step`` did its work."""
    real = getattr(stock, step)
    done = 0

    def run_then_die(*args: object, **kwargs: object) -> object:
        nonlocal done
        result = real(*args, **kwargs)
        done += 1
        if done == calls:
            raise Crash(f"{step} #{calls}")
        return result

    monkeypatch.setattr(stock, step, run_then_die)


def interrupted(monkeypatch: pytest.MonkeyPatch, step: str, call: Callable[[], object], **kw):
    with monkeypatch.context() as patch:
        crash_after(patch, step, **kw)
        with pytest.raises(Crash):
            call()


def test_reservation_release_repeated_after_a_crash_past_its_state_move_gives_the_holds_back(
    monkeypatch,
):
    first, second = ProductFactory(quantity=10), ProductFactory(quantity=10)
    reserve("order-1", (first, 2), (second, 3))

    interrupted(
        monkeypatch, "_move_state_of", partial(stock.reservation_release, order_id="order-1")
    )
    assert Reservation.objects.get(order_id="order-1").state == ReservationState.RELEASED
    assert [stock_of(first), stock_of(second)] == [(8, 2, 0), (7, 3, 0)]

    again = stock.reservation_release(order_id="order-1")
    stock.reservation_release(order_id="order-1")

    assert again.state == ReservationState.RELEASED
    assert [stock_of(first), stock_of(second)] == [(10, 0, 0), (10, 0, 0)]
    assert product_document(first)["holds"] == product_document(second)["holds"] == []


def test_reservation_release_repeated_after_a_crash_between_its_lines_returns_each_unit_once(
    monkeypatch,
):
    first, second = ProductFactory(quantity=10), ProductFactory(quantity=10)
    reserve("order-1", (first, 2), (second, 3))

    interrupted(monkeypatch, "_unhold", partial(stock.reservation_release, order_id="order-1"))
    assert sorted([stock_of(first), stock_of(second)]) == [(7, 3, 0), (10, 0, 0)]

    stock.reservation_release(order_id="order-1")
    stock.reservation_release(order_id="order-1")

    assert [stock_of(first), stock_of(second)] == [(10, 0, 0), (10, 0, 0)]


def test_a_release_of_an_expiry_interrupted_after_its_state_move_gives_the_holds_back(
    monkeypatch,
):
    product = ProductFactory(quantity=10)
    reserve("order-1", (product, 4), ttl=1)
    later = timezone.now() + timedelta(minutes=1)

    interrupted(monkeypatch, "_move_state", partial(stock.reservations_expire, now=later))
    assert Reservation.objects.get(order_id="order-1").state == ReservationState.EXPIRED
    # The sweep looks only at active reservations: this one is no longer its business.
    assert stock.reservations_expire(now=later) == 0
    assert stock_of(product) == (6, 4, 0)

    released = stock.reservation_release(order_id="order-1")

    assert released.state == ReservationState.EXPIRED
    assert stock_of(product) == (10, 0, 0)


# Every step of the release of a committed order of two products, in order: the crash lands
# right after the given call of the step did its work.
COMMITTED_RELEASE_STEPS = [
    ("_mark_return", 1),
    ("_mark_return", 2),
    ("_move_state", 1),
    ("_return_marked", 1),
    ("_record_returned", 1),
    ("_return_marked", 2),
    ("_record_returned", 2),
]


def finish_by_release(order_id: str) -> None:
    stock.reservation_release(order_id=order_id)


def finish_by_repair(order_id: str) -> None:
    from products.stock_audit import stock_audit

    stock_audit(repair=True, now=timezone.now() + timedelta(minutes=5))
    # The order still reads as it was left; a release of it finishes or repeats the release.
    stock.reservation_release(order_id=order_id)


@pytest.mark.parametrize(("step", "calls"), COMMITTED_RELEASE_STEPS)
@pytest.mark.parametrize("commit_finished", [True, False], ids=["sold", "commit-interrupted"])
@pytest.mark.parametrize("finish", [finish_by_release, finish_by_repair], ids=["release", "repair"])
def test_a_committed_release_interrupted_at_any_step_returns_each_unit_exactly_once(
    monkeypatch, step, calls, commit_finished, finish
):
    first, second = ProductFactory(quantity=20), ProductFactory(quantity=20)
    # Another order's sale on both products: a unit returned twice would come out of it.
    reserve("kept", (first, 5), (second, 5))
    stock.reservation_commit(order_id="kept")
    reserve("order-1", (first, 2), (second, 3))
    if commit_finished:
        stock.reservation_commit(order_id="order-1")
    else:
        # The commit died after selling the first product's hold only.
        interrupted(
            monkeypatch, "_hold_to_sale", partial(stock.reservation_commit, order_id="order-1")
        )
        assert [stock_of(first), stock_of(second)] == [(13, 0, 7), (12, 3, 5)]

    interrupted(
        monkeypatch, step, partial(stock.reservation_release, order_id="order-1"), calls=calls
    )
    finish("order-1")
    finish("order-1")

    assert [stock_of(first), stock_of(second)] == [(15, 0, 5), (15, 0, 5)]
    reservation = Reservation.objects.get(order_id="order-1")
    assert reservation.state == ReservationState.RELEASED
    assert [item.get("returned") for item in reservation.items] == [True, True]
    for product in (first, second):
        document = product_document(product)
        assert document["holds"] == []
        assert reservation.release_token not in document.get("returns", [])
    with pytest.raises(ReservationNotActive):
        stock.reservation_commit(order_id="order-1")
    # A release that died before its move left its own token, never to be used: the repair
    # drops it, and changes nothing else.
    finish_by_repair("order-1")
    assert [stock_of(first), stock_of(second)] == [(15, 0, 5), (15, 0, 5)]
    assert [product_document(p).get("returns", []) for p in (first, second)] == [[], []]


def test_concurrent_finishers_of_an_interrupted_committed_release_return_its_stock_once(
    monkeypatch,
):
    from products.stock_audit import stock_audit

    product = ProductFactory(quantity=20)
    for order_id, quantity in (("kept", 6), ("cancelled", 4)):
        reserve(order_id, (product, quantity))
        stock.reservation_commit(order_id=order_id)
    interrupted(
        monkeypatch, "_move_state", partial(stock.reservation_release, order_id="cancelled")
    )
    assert stock_of(product) == (10, 0, 10)

    later = timezone.now() + timedelta(minutes=5)
    results = run_together(
        *[partial(stock.reservation_release, order_id="cancelled")] * 8,
        *[partial(stock_audit, repair=True, now=later)] * 4,
    )

    assert not [result for result in results if isinstance(result, Exception)]
    assert stock_of(product) == (14, 0, 6)
    assert product_document(product).get("returns") == []


def _moving_under_every_look(monkeypatch) -> list[str]:
    """Every conditional move misses and every look finds the reservation reserved again, as if
    it were refused and made again between each two looks."""
    looks = []

    def look(order_id, **kwargs):
        looks.append(order_id)
        return Reservation(order_id=order_id, state=ReservationState.RESERVED, items=[])

    monkeypatch.setattr(stock, "_move_state_of", lambda *args, **kwargs: None)
    monkeypatch.setattr(stock, "_settled", look)
    monkeypatch.setattr(stock, "_reservation_of", look)
    return looks


@pytest.mark.parametrize("step", [stock.reservation_commit, stock.reservation_release])
def test_a_reservation_that_keeps_moving_gets_a_bounded_number_of_looks_then_409(monkeypatch, step):
    looks = _moving_under_every_look(monkeypatch)

    with pytest.raises(ReservationInProgress):
        step(order_id="order-moving")

    assert len(looks) == stock.MOVE_TRIES
