"""Order services under concurrency: guarded transitions, one payment, expiry, atomicity."""

import threading
import time
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from ecommerce_common.errors import ApiError
from ecommerce_common.user_auth import RemoteUser
from orders import services
from orders.errors import IllegalTransition
from orders.models import Order, OrderItem, OutboxEvent, StatusHistory
from orders.reservations import ReservedLine
from orders.selectors import order_locked
from orders.status import OrderStatus
from orders.tests.factories import OrderFactory, OrderItemFactory
from payments.models import Payment, PaymentStatus
from payments.services import order_pay
from payments.tests.factories import PaymentFactory


def run_concurrently(*calls):
    """Run the calls in threads released together; return each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_transitions_of_one_order_cannot_both_win():
    order = OrderFactory(status=OrderStatus.PAID)

    results = run_concurrently(
        lambda: services.order_transition(order_id=order.id, to_status=OrderStatus.CONFIRMED),
        lambda: services.order_cancel(order_id=order.id),
        lambda: services.order_transition(order_id=order.id, to_status=OrderStatus.OUT_OF_STOCK),
    )

    failures = [r for r in results if isinstance(r, Exception)]
    assert len(failures) == 2
    assert all(isinstance(f, IllegalTransition) for f in failures)
    order.refresh_from_db()
    assert StatusHistory.objects.filter(order=order, from_status="paid").count() == 1
    assert OutboxEvent.objects.filter(order=order).count() == 1
    assert StatusHistory.objects.get(order=order, from_status="paid").to_status == order.status


@pytest.mark.django_db(transaction=True)
def test_the_same_event_delivered_concurrently_is_applied_once():
    order = OrderFactory(status=OrderStatus.PAID)
    event_id = str(uuid.uuid4())

    def deliver():
        return services.order_transition(
            order_id=order.id, to_status=OrderStatus.CONFIRMED, event_id=event_id
        )[1]

    results = run_concurrently(deliver, deliver, deliver)

    assert sorted(results) == [False, False, True]
    assert StatusHistory.objects.filter(order=order, event_id=event_id).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_payments_of_one_order_charge_once(gateway, monkeypatch):
    order = OrderFactory()
    charge = gateway.charge

    def slow_charge(**kwargs):
        time.sleep(0.3)
        return charge(**kwargs)

    monkeypatch.setattr(gateway, "charge", slow_charge)

    results = run_concurrently(
        lambda: order_pay(order_id=order.id, payment_token="tok_visa"),
        lambda: order_pay(order_id=order.id, payment_token="tok_visa"),
    )

    paid = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, ApiError)]
    assert len(paid) == 1
    assert [r.code for r in refused] in (["payment_in_progress"], ["already_paid"])
    assert len(gateway.charged) == 1
    order.refresh_from_db()
    assert order.status == "paid"


@pytest.mark.django_db(transaction=True)
def test_expiry_racing_a_payment_leaves_one_outcome(gateway):
    order = OrderFactory(payment_deadline=timezone.now() + timedelta(milliseconds=200))
    time.sleep(0.3)

    results = run_concurrently(
        lambda: services.orders_expire_overdue(),
        lambda: order_pay(order_id=order.id, payment_token="tok_visa"),
    )

    order.refresh_from_db()
    assert order.status == "expired"
    assert gateway.charged == []
    assert StatusHistory.objects.filter(order=order, to_status="expired").count() == 1
    assert isinstance(results[1], ApiError)


@pytest.mark.django_db
def test_a_new_order_its_lines_event_and_history_are_one_statement_stored_as_the_orm_would(
    django_assert_num_queries,
):
    lines = [
        ReservedLine(product_id=f"65a00000000000000000000{n}", title=t, unit_price=p, quantity=q)
        for n, (t, p, q) in enumerate([("Mug", Decimal("3.00"), 2), ("Kettle", Decimal("9.50"), 1)])
    ]

    with django_assert_num_queries(1):
        order = services._order_store(
            order_id=uuid.uuid4(), user_id="7", total=Decimal("15.50"), reserved=lines
        )

    stored = Order.objects.get(pk=order.pk)
    for field in Order._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(order, field.attname), field.name
    assert stored.created_at is not None
    assert stored.currency == "USD"
    # The lines keep the order given (their ids are drawn in that order).
    assert [
        (item.title, item.unit_price, item.quantity) for item in stored.items.order_by("id")
    ] == [
        ("Mug", Decimal("3.00"), 2),
        ("Kettle", Decimal("9.50"), 1),
    ]
    event = OutboxEvent.objects.get(order=stored)
    assert (event.event_type, event.state) == ("order.created", "not_routed")
    assert event.envelope["data"]["items"][0]["title"] == "Mug"
    history = StatusHistory.objects.get(order=stored)
    assert (history.from_status, history.to_status, history.published_event_id) == (
        "",
        "payment_pending",
        event.id,
    )
    # Saved, as far as the ORM is concerned: a later save() is an UPDATE.
    order.currency = "EUR"
    order.save(update_fields=["currency"])
    assert Order.objects.get(pk=order.pk).currency == "EUR"


@pytest.mark.django_db
def test_a_status_change_and_its_outbox_event_commit_or_roll_back_together(monkeypatch):
    order = OrderFactory(status=OrderStatus.PAID)

    def broken_insert(*rows):
        raise RuntimeError("disk full")

    # The order's UPDATE has run when the event and history rows fail to insert.
    monkeypatch.setattr("orders.services.insert_together", broken_insert)

    with pytest.raises(RuntimeError):
        services.order_transition(order_id=order.id, to_status=OrderStatus.CONFIRMED)

    order.refresh_from_db()
    assert order.status == "paid"
    assert StatusHistory.objects.filter(order=order, to_status="confirmed").count() == 0


@pytest.mark.django_db
def test_expiry_skips_orders_with_a_payment_in_flight_until_it_goes_stale(settings):
    past = timezone.now() - timedelta(minutes=1)
    order = OrderFactory(payment_deadline=past)
    payment = PaymentFactory(order=order, status=PaymentStatus.PROCESSING)

    assert services.orders_expire_overdue() == 0

    Payment.objects.filter(pk=payment.pk).update(
        updated_at=timezone.now() - timedelta(seconds=settings.PAYMENT_ATTEMPT_STALE_SECONDS + 1)
    )
    assert services.orders_expire_overdue() == 1
    order.refresh_from_db()
    assert order.status == "expired"


@pytest.mark.django_db
def test_expire_orders_command_expires_overdue_orders(capsys):
    from django.core.management import call_command

    OrderFactory(payment_deadline=timezone.now() - timedelta(seconds=1))

    call_command("expire_orders")

    assert "reconciled 0 payment(s), expired 1 order(s)" in capsys.readouterr().out
    assert Order.objects.get().status == "expired"


@pytest.mark.django_db
def test_order_locked_reads_the_order_and_its_lines_as_the_orm_does(django_assert_num_queries):
    order = OrderFactory(user_id="7")
    OrderItemFactory(order=order, title="Second", unit_price=Decimal("0.37"), quantity=3)
    other = OrderFactory(user_id="8")
    expected_lines = list(OrderItem.objects.filter(order=order).order_by("id").values())

    with transaction.atomic(), django_assert_num_queries(1):
        locked = order_locked(order_id=order.id)
    with transaction.atomic():
        mine = order_locked(
            order_id=order.id, user=RemoteUser(id="7", email="u7@example.com", role="user")
        )
        with pytest.raises(Order.DoesNotExist):
            order_locked(
                order_id=other.id, user=RemoteUser(id="7", email="u7@example.com", role="user")
            )
        as_admin = order_locked(
            order_id=other.id, user=RemoteUser(id="1", email="u1@example.com", role="admin")
        )

    stored = Order.objects.get(pk=order.pk)
    for found in (locked, mine):
        for field in Order._meta.concrete_fields:
            assert getattr(found, field.attname) == getattr(stored, field.attname), field.name
        assert [
            {f.attname: getattr(line, f.attname) for f in OrderItem._meta.concrete_fields}
            for line in found.lines
        ] == expected_lines
        assert all(line.order is found for line in found.lines)
        assert found._state.adding is False
    assert as_admin.pk == other.pk


@pytest.mark.django_db(transaction=True)
def test_order_locked_outside_a_transaction_is_refused():
    order = OrderFactory()

    with pytest.raises(TransactionManagementError):
        order_locked(order_id=order.id)
