"""The stock audit and repair: stock left out by interrupted steps, counters against the ledger."""

import logging
import random
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from products import stock
from products.constants import ReservationState
from products.errors import InsufficientStock, ReservationNotActive
from products.models import Product, Reservation
from products.stock_audit import FindingKind, StockAudit, stock_audit
from products.tests.factories import ProductFactory
from products.tests.test_stock import (
    Crash,
    crash_at,
    interrupted,
    product_document,
    reserve,
    run_together,
    stock_of,
)


def later() -> object:
    """A moment when every reservation made so far has settled."""
    return timezone.now() + timedelta(minutes=5)


def products_collection():
    return connection.database[Product._meta.db_table]


def kinds(audit) -> list[tuple[str, str | None, bool]]:
    return sorted((str(f.kind), f.order_id, f.mended) for f in audit.findings)


def test_stock_audit_of_consistent_stock_finds_nothing():
    product = ProductFactory(quantity=10)
    reserve("open", (product, 1))
    reserve("sold", (product, 2))
    stock.reservation_commit(order_id="sold")
    reserve("returned", (product, 3))
    stock.reservation_commit(order_id="returned")
    stock.reservation_release(order_id="returned")

    audit = stock_audit(repair=True, now=later())

    assert audit.findings == []
    assert (audit.products, audit.reservations) == (1, 3)
    assert stock_of(product) == (7, 1, 2)


def test_stock_audit_finds_the_holds_of_an_interrupted_expiry_and_repair_returns_them(
    monkeypatch,
):
    product = ProductFactory(quantity=10)
    reserve("order-1", (product, 4), ttl=1)
    interrupted(
        monkeypatch,
        "_move_state",
        partial(stock.reservations_expire, now=timezone.now() + timedelta(minutes=1)),
    )

    report = stock_audit(repair=False, now=later())
    assert stock_of(product) == (6, 4, 0)
    repaired = stock_audit(repair=True, now=later())

    assert kinds(report) == [("leaked_hold", "order-1", False)]
    assert kinds(repaired) == [("leaked_hold", "order-1", True)]
    assert stock_of(product) == (10, 0, 0)
    assert stock_audit(repair=True, now=later()).findings == []


def test_stock_audit_leaves_a_release_in_progress_alone(monkeypatch):
    product = ProductFactory(quantity=10)
    reserve("order-1", (product, 4))
    interrupted(
        monkeypatch, "_move_state_of", partial(stock.reservation_release, order_id="order-1")
    )

    # Released a moment ago: as far as anyone can tell, its release is still giving stock back.
    assert stock_audit(repair=True).findings == []
    assert stock_of(product) == (6, 4, 0)


def test_stock_repair_finishes_a_commit_interrupted_before_moving_stock(monkeypatch):
    product = ProductFactory(quantity=10)
    reserve("order-1", (product, 2))
    with monkeypatch.context() as patch:
        crash_at(patch, "_sell_held")
        with pytest.raises(Crash):
            stock.reservation_commit(order_id="order-1")
    assert stock_of(product) == (8, 2, 0)

    audit = stock_audit(repair=True, now=later())

    assert kinds(audit) == [("unfinished_commit", "order-1", True)]
    assert stock_of(product) == (8, 0, 2)


def test_stock_repair_gives_back_a_hold_whose_reservation_is_gone_and_retires_its_order_id():
    product = ProductFactory(quantity=10)
    reserve("lost", (product, 3))
    connection.database[Reservation._meta.db_table].delete_one({"order_id": "lost"})

    audit = stock_audit(repair=True, now=later())

    assert kinds(audit) == [("leaked_hold", "lost", True)]
    assert stock_of(product) == (10, 0, 0)
    assert Reservation.objects.get(order_id="lost").state == ReservationState.RELEASED
    with pytest.raises(ReservationNotActive):
        reserve("lost", (product, 3))
    assert stock_of(product) == (10, 0, 0)


def test_stock_repair_drops_the_token_of_a_release_that_lost_its_state_move():
    product = ProductFactory(quantity=10)
    reserve("order-1", (product, 3))
    stock.reservation_commit(order_id="order-1")
    stock.reservation_release(order_id="order-1")
    # A concurrent release that put its token down, lost the move and died before taking it back.
    products_collection().update_one({"_id": product.pk}, {"$push": {"returns": "order-1/loser"}})

    audit = stock_audit(repair=True, now=later())

    assert kinds(audit) == [("stale_return_token", "order-1", True)]
    assert product_document(product)["returns"] == []
    assert stock_of(product) == (10, 0, 0)


@pytest.mark.parametrize(
    ("drift", "expected_available"),
    [
        ({"sold": 2, "quantity": -2}, 5),  # A return lost: the units sit in sold.
        ({"sold": -1, "quantity": 1}, 5),  # A unit returned twice.
        ({"reserved": 2, "quantity": -2}, 5),  # Reserved counts stock no order holds.
    ],
    ids=["return-lost", "returned-twice", "reserved-without-hold"],
)
def test_stock_repair_sets_counters_to_the_ledger_and_keeps_the_total(drift, expected_available):
    product = ProductFactory(quantity=10)
    reserve("open", (product, 1))
    reserve("sold", (product, 4))
    stock.reservation_commit(order_id="sold")
    products_collection().update_one({"_id": product.pk}, {"$inc": drift})

    report = stock_audit(repair=False, now=later())
    repaired = stock_audit(repair=True, now=later())

    assert kinds(report) == [("counter_drift", None, False)]
    assert kinds(repaired) == [("counter_drift", None, True)]
    assert stock_of(product) == (expected_available, 1, 4)
    assert stock_audit(repair=True, now=later()).findings == []


def test_stock_repair_reports_oversold_stock_and_leaves_it_to_the_seller(caplog):
    product = ProductFactory(quantity=10)
    reserve("sold", (product, 4))
    stock.reservation_commit(order_id="sold")
    # Sold lost 3 units that available then sold again: putting them back would go below zero.
    products_collection().update_one(
        {"_id": product.pk}, {"$set": {"quantity": 0}, "$inc": {"sold": -3}}
    )

    with caplog.at_level(logging.WARNING, logger="products.stock_audit"):
        audit = stock_audit(repair=True, now=later())

    [finding] = audit.findings
    assert finding.kind == FindingKind.COUNTER_DRIFT
    assert not finding.mended
    assert "oversold" in finding.detail
    assert stock_of(product) == (0, 0, 1)
    assert [record.levelname for record in caplog.records] == ["ERROR"]


def test_stock_audit_leaves_a_product_whose_reservations_just_changed_for_the_next_run():
    product = ProductFactory(quantity=10)
    reserve("sold", (product, 4))
    stock.reservation_commit(order_id="sold")
    products_collection().update_one({"_id": product.pk}, {"$inc": {"sold": 2, "quantity": -2}})

    now = stock_audit(repair=True)
    settled = stock_audit(repair=True, now=later())

    assert (now.findings, now.busy_products) == ([], 1)
    assert kinds(settled) == [("counter_drift", None, True)]
    assert stock_of(product) == (6, 0, 4)


def test_stock_audit_command_prints_the_report_and_repairs_only_when_asked(monkeypatch):
    product = ProductFactory(quantity=10)
    reserve("order-1", (product, 2))
    interrupted(
        monkeypatch, "_move_state_of", partial(stock.reservation_release, order_id="order-1")
    )
    # The command runs at the current time: let the interrupted release settle.
    monkeypatch.setattr("products.stock_audit.SETTLE_GRACE", timedelta(0))

    report, repaired, clean = StringIO(), StringIO(), StringIO()
    call_command("stock_audit", stdout=report)
    assert stock_of(product) == (8, 2, 0)
    call_command("stock_audit", "--repair", stdout=repaired)
    call_command("stock_audit", stdout=clean)

    assert report.getvalue().splitlines() == [
        "Stock audit: 1 product(s), 1 reservation(s), 0 product(s) busy (left for the next run).",
        f"leaked_hold: product {product.pk} order order-1: 2 unit(s) held by a reservation "
        "released (not mended)",
        "1 finding(s); run with --repair to mend them.",
    ]
    assert repaired.getvalue().splitlines()[1:] == [
        f"leaked_hold: product {product.pk} order order-1: 2 unit(s) held by a reservation "
        "released (mended)",
        "1 of 1 finding(s) mended.",
    ]
    assert clean.getvalue().splitlines()[1:] == [
        "Nothing to mend: every hold has its open reservation, every count adds up."
    ]
    assert stock_of(product) == (10, 0, 0)


def test_stock_repair_endpoint_mends_and_answers_the_report(internal_client, monkeypatch):
    product = ProductFactory(quantity=10)
    reserve("order-1", (product, 2))
    interrupted(
        monkeypatch, "_move_state_of", partial(stock.reservation_release, order_id="order-1")
    )
    monkeypatch.setattr("products.stock_audit.SETTLE_GRACE", timedelta(0))

    response = internal_client.post("/internal/stock/repair")

    assert response.status_code == 200
    assert response.json() == {
        "repair": True,
        "products": 1,
        "reservations": 1,
        "busyProducts": 0,
        "mended": 1,
        "unmended": 0,
        "findings": [
            {
                "kind": "leaked_hold",
                "productId": str(product.pk),
                "orderId": "order-1",
                "detail": "2 unit(s) held by a reservation released",
                "mended": True,
            }
        ],
    }
    assert stock_of(product) == (10, 0, 0)


def test_stock_repair_endpoint_needs_the_internal_token(api_client):
    response = api_client.post("/internal/stock/repair")

    assert response.status_code == 401


def test_stock_repair_running_beside_live_traffic_changes_nothing_and_everything_adds_up():
    rng = random.Random(12)
    products = [ProductFactory(quantity=30) for _ in range(3)]
    orders = {
        f"live-{n}": [(product, rng.randint(1, 3)) for product in rng.sample(products, 2)]
        for n in range(30)
    }
    reserved = run_together(
        *[partial(reserve, order_id, *lines) for order_id, lines in orders.items()],
        *[partial(stock_audit, repair=True)] * 3,
    )
    calls: list[Callable[[], object]] = []
    for order_id, result in zip(orders, reserved, strict=False):
        if isinstance(result, tuple):
            for action in rng.choice([("commit",), ("release",), ("commit", "release")]):
                calls.append(partial(getattr(stock, f"reservation_{action}"), order_id=order_id))
    results = run_together(*calls, *[partial(stock_audit, repair=True)] * 4)

    failures = [r for r in results + reserved if isinstance(r, Exception)]
    assert all(isinstance(r, ReservationNotActive | InsufficientStock) for r in failures), failures
    audits = [r for r in results + reserved if isinstance(r, StockAudit)]
    # While stock moves, the repair finds nothing to mend: what is in flight is not a leak.
    assert len(audits) == 7
    assert all(audit.findings == [] for audit in audits)
    final = stock_audit(repair=False, now=later())
    assert final.findings == []
    for product in products:
        quantity, reserved_units, sold = stock_of(product)
        assert quantity + reserved_units + sold == 30
        assert min(quantity, reserved_units, sold) >= 0
