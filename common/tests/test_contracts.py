import json

import pytest
from django.http import HttpResponse

from ecommerce_common.contracts import (
    EVENT_TARGETS,
    ORDER_TRANSITIONS,
    ErrorAnswer,
    OrderStatus,
    OrderTransitionErrorCode,
    can_transition,
    error_answer_parse,
    illegal_transition_errors,
)
from ecommerce_common.errors import ApiError, error_body


class Answer:
    """A response as ``requests`` gives it: only ``.json()`` is read."""

    def __init__(self, content: bytes) -> None:
        self.content = content

    def json(self):
        return json.loads(self.content)


def test_error_answer_parse_reads_what_the_shared_error_handler_sends():
    error = ApiError(
        "An order cannot go from confirmed to cancelled.",
        code=OrderTransitionErrorCode.ILLEGAL_TRANSITION,
        errors=illegal_transition_errors(status="confirmed", requested="cancelled"),
    )
    sent = HttpResponse(json.dumps(error_body(str(error.detail), error.code, error.errors)))

    answer = error_answer_parse(response=Answer(sent.content))

    assert answer == ErrorAnswer(
        code="illegal_transition",
        message="An order cannot go from confirmed to cancelled.",
        errors={"status": "confirmed", "requested": "cancelled"},
    )
    assert answer.reported_status == "confirmed"


@pytest.mark.parametrize("content", [b"<html>Bad gateway</html>", b"[1, 2]", b'{"errors": [1]}'])
def test_error_answer_parse_gives_empty_parts_for_a_body_of_another_shape(content):
    answer = error_answer_parse(response=Answer(content))

    assert answer == ErrorAnswer(code="", message="", errors={})
    assert answer.reported_status is None


def test_every_order_status_has_a_place_in_the_transition_table():
    assert set(ORDER_TRANSITIONS) == set(OrderStatus)
    assert all(targets <= set(OrderStatus) for targets in ORDER_TRANSITIONS.values())


def test_an_event_can_never_set_an_order_paid():
    assert OrderStatus.PAID not in EVENT_TARGETS
    assert can_transition(OrderStatus.PAYMENT_PENDING, OrderStatus.PAID)
    assert not can_transition(OrderStatus.CONFIRMED, OrderStatus.CANCELLED)
