"""The handlers against real HTTP stand-ins of product_service and order_service."""

import pytest

from ecommerce_common import contracts
from ecommerce_common.contracts import envelope_parse
from events.handlers import (
    HANDLERS,
    HandlingResult,
    PermanentError,
    TransientError,
    order_event_handle,
)
from events.models import Outcome
from events.tests.factories import EnvelopeFactory

pytestmark = pytest.mark.usefixtures("fast_client")


def paid_event(order_id: str = "order-1", **kwargs):
    return envelope_parse(envelope=EnvelopeFactory(orderId=order_id, **kwargs))


def test_order_paid_commits_the_reservation_then_confirms_the_order(product_service, order_service):
    product_service.reserve("order-1")
    order_service.add("order-1", "paid")
    event = paid_event()

    result = order_event_handle(event=event)

    assert result == HandlingResult(Outcome.APPLIED, "confirmed")
    assert product_service.effects == [("commit", "order-1")]
    assert order_service.orders["order-1"] == "confirmed"
    [status_call] = order_service.calls_to("/status")
    assert status_call.method == "PUT"
    assert status_call.body == {
        "status": "confirmed",
        "reason": "stock committed for the paid order",
        "eventId": event.event_id,
    }


def test_calls_carry_the_internal_token(product_service, order_service, settings):
    product_service.reserve("order-1")
    order_service.add("order-1", "paid")

    order_event_handle(event=paid_event())

    calls = product_service.calls + order_service.calls
    assert calls
    assert {call.headers["X-Internal-Token"] for call in calls} == {settings.INTERNAL_API_TOKENS[0]}


def test_order_paid_handled_twice_commits_and_confirms_once(product_service, order_service):
    product_service.reserve("order-1")
    order_service.add("order-1", "paid")
    event = paid_event()

    first = order_event_handle(event=event)
    second = order_event_handle(event=event)

    assert first == second == HandlingResult(Outcome.APPLIED, "confirmed")
    assert product_service.effects == [("commit", "order-1")]
    assert order_service.transitions == [("order-1", "paid", "confirmed")]


def test_order_paid_marks_the_order_out_of_stock_when_the_reservation_is_gone(
    product_service, order_service
):
    product_service.reserve("order-1", "released")
    order_service.add("order-1", "paid")

    result = order_event_handle(event=paid_event())

    assert result == HandlingResult(Outcome.APPLIED, "out_of_stock")
    assert order_service.orders["order-1"] == "out_of_stock"
    assert order_service.calls_to("/status")[0].body["status"] == "out_of_stock"
    assert product_service.effects == []


def test_order_paid_finishes_when_an_out_of_stock_order_already_moved_on(
    product_service, order_service
):
    product_service.reserve("order-1", "released")
    order_service.add("order-1", "cancelled")

    result = order_event_handle(event=paid_event())

    assert result == HandlingResult(Outcome.APPLIED, "order moved on; nothing committed")
    assert order_service.orders["order-1"] == "cancelled"


def test_order_paid_releases_committed_stock_when_the_order_was_cancelled_meanwhile(
    product_service, order_service
):
    product_service.reserve("order-1")
    order_service.add("order-1", "cancelled")

    result = order_event_handle(event=paid_event())

    assert result == HandlingResult(Outcome.APPLIED, "order moved on; committed stock released")
    assert product_service.effects == [("commit", "order-1"), ("release", "order-1")]
    assert product_service.reservations["order-1"] == "released"
    assert order_service.orders["order-1"] == "cancelled"


def test_order_paid_keeps_the_stock_of_an_order_reported_already_confirmed(
    product_service, order_service
):
    product_service.reserve("order-1")
    order_service.add("order-1", "confirmed")

    result = order_event_handle(event=paid_event())

    assert result == HandlingResult(Outcome.APPLIED, "already confirmed")
    assert product_service.reservations["order-1"] == "committed"


def test_order_paid_for_an_unknown_order_is_permanent(product_service, order_service):
    product_service.reserve("order-1")

    with pytest.raises(PermanentError, match="404"):
        order_event_handle(event=paid_event())


def test_order_paid_without_a_reservation_is_permanent(product_service, order_service):
    order_service.add("order-1", "paid")

    with pytest.raises(PermanentError, match="404"):
        order_event_handle(event=paid_event())

    assert order_service.orders["order-1"] == "paid"


def test_a_refused_status_change_is_permanent(product_service, order_service):
    product_service.reserve("order-1")
    order_service.add("order-1", "paid")
    order_service.fail("/status", status=400, body={"code": "invalid", "message": "bad status"})

    with pytest.raises(PermanentError, match="400"):
        order_event_handle(event=paid_event())


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_an_error_answer_from_product_service_is_transient(product_service, order_service, status):
    product_service.reserve("order-1")
    order_service.add("order-1", "paid")
    product_service.fail("/commit", status=status)

    with pytest.raises(TransientError):
        order_event_handle(event=paid_event())

    assert order_service.calls == []


def test_a_failure_of_order_service_after_the_commit_is_transient_and_the_retry_confirms(
    product_service, order_service
):
    product_service.reserve("order-1")
    order_service.add("order-1", "paid")
    order_service.fail("/status", status=503)
    event = paid_event()

    with pytest.raises(TransientError):
        order_event_handle(event=event)
    result = order_event_handle(event=event)

    assert result.result == "confirmed"
    assert product_service.effects == [("commit", "order-1")]
    assert order_service.transitions == [("order-1", "paid", "confirmed")]


def test_a_timeout_is_transient(product_service, order_service):
    product_service.reserve("order-1")
    product_service.slow("/commit", seconds=1.5)

    with pytest.raises(TransientError, match="failed"):
        order_event_handle(event=paid_event())


def test_an_unreachable_service_is_transient(product_service, order_service, settings):
    settings.PRODUCT_SERVICE_URL = "http://127.0.0.1:9"

    with pytest.raises(TransientError):
        order_event_handle(event=paid_event())


@pytest.mark.parametrize(
    "event_type",
    [contracts.ORDER_PAYMENT_FAILED, contracts.ORDER_CANCELLED, contracts.ORDER_EXPIRED],
)
def test_a_failed_cancelled_or_expired_order_has_its_stock_released(
    product_service, order_service, event_type
):
    product_service.reserve("order-1")

    result = order_event_handle(event=paid_event(type=event_type))

    assert result == HandlingResult(Outcome.APPLIED, "released")
    assert product_service.effects == [("release", "order-1")]
    assert order_service.calls == []


def test_releasing_an_unknown_reservation_is_nothing_to_release(product_service, order_service):
    result = order_event_handle(event=paid_event(type=contracts.ORDER_CANCELLED))

    assert result == HandlingResult(Outcome.APPLIED, "nothing to release")
    assert len(product_service.calls_to("/release")) == 1


def test_release_failing_with_5xx_is_transient(product_service, order_service):
    product_service.reserve("order-1")
    product_service.fail("/release", status=502)

    with pytest.raises(TransientError):
        order_event_handle(event=paid_event(type=contracts.ORDER_EXPIRED))


@pytest.mark.parametrize(
    "event_type",
    [
        contracts.ORDER_CREATED,
        contracts.ORDER_CONFIRMED,
        contracts.ORDER_OUT_OF_STOCK,
        "order.shipped",
    ],
)
def test_an_event_the_worker_does_not_act_on_is_ignored(product_service, order_service, event_type):
    result = order_event_handle(event=paid_event(type=event_type))

    assert result.outcome == Outcome.IGNORED
    assert product_service.calls == []
    assert order_service.calls == []


def test_the_worker_acts_on_exactly_the_event_types_order_service_routes_to_it():
    # order_service publishes only WORKER_EVENT_TYPES; a handler for any other type would never
    # run, and a routed type without a handler would cost a publish for nothing.
    assert set(HANDLERS) == contracts.WORKER_EVENT_TYPES


def test_order_paid_releases_committed_stock_when_the_conflict_does_not_say_the_status(
    product_service, order_service
):
    product_service.reserve("order-1")
    order_service.add("order-1", "paid")
    order_service.fail("/status", status=409, body={"code": "illegal_transition", "message": "no"})

    result = order_event_handle(event=paid_event())

    assert result.result == "order moved on; committed stock released"
    assert product_service.reservations["order-1"] == "released"
