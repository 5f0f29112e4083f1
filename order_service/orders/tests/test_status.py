"""The state machine table (docs/ARCHITECTURE.md §5)."""

import pytest

from ecommerce_common import contracts
from orders.status import EVENT_FOR_STATUS, TRANSITIONS, OrderStatus, can_transition


def test_the_stored_statuses_are_the_contracts():
    assert OrderStatus.values == [status.value for status in contracts.OrderStatus]


def test_every_status_has_a_transition_entry_and_an_event():
    assert set(TRANSITIONS) == set(OrderStatus.values)
    assert set(EVENT_FOR_STATUS) == set(OrderStatus.values)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("payment_pending", "paid"),
        ("payment_pending", "payment_failed"),
        ("payment_pending", "cancelled"),
        ("payment_pending", "expired"),
        ("paid", "confirmed"),
        ("paid", "out_of_stock"),
        ("paid", "cancelled"),
    ],
)
def test_the_lifecycle_transitions_are_allowed(source, target):
    assert can_transition(source, target)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("payment_pending", "confirmed"),
        ("paid", "paid"),
        ("paid", "expired"),
        ("confirmed", "cancelled"),
        ("cancelled", "paid"),
        ("expired", "paid"),
        ("payment_failed", "paid"),
        ("out_of_stock", "confirmed"),
        ("paid", "shipped"),
    ],
)
def test_other_transitions_are_illegal(source, target):
    assert not can_transition(source, target)


def test_orders_are_cancellable_only_until_confirmed():
    cancellable = {status for status in OrderStatus.values if can_transition(status, "cancelled")}
    assert cancellable == {"payment_pending", "paid"}


def test_labels_are_the_old_systems_texts():
    assert [s.label for s in OrderStatus] == [
        "payment pending",
        "payment successful",
        "payment failed",
        "order confirmed",
        "order out of stock",
        "order cancelled",
        "order expired",
    ]
