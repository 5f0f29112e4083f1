import pytest

from ecommerce_common.contracts import MalformedEnvelope, envelope_parse
from events.tests.factories import EnvelopeFactory


def test_envelope_parse_reads_a_well_formed_envelope():
    envelope = EnvelopeFactory(data={"totalAmount": 10.5})

    event = envelope_parse(envelope=envelope)

    assert event.event_id == envelope["eventId"]
    assert event.event_type == "order.paid"
    assert event.order_id == envelope["orderId"]
    assert event.version == 1
    assert event.data == {"totalAmount": 10.5}
    assert event.envelope is envelope


@pytest.mark.parametrize("envelope", [None, "order.paid", ["order.paid"], 42])
def test_envelope_parse_rejects_what_is_not_an_object(envelope):
    with pytest.raises(MalformedEnvelope) as excinfo:
        envelope_parse(envelope=envelope)

    assert set(excinfo.value.errors) == {"envelope"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"eventId": None}, "eventId"),
        ({"eventId": ""}, "eventId"),
        ({"eventId": 17}, "eventId"),
        ({"orderId": "../../admin"}, "orderId"),
        ({"orderId": "a/b"}, "orderId"),
        ({"orderId": "x" * 101}, "orderId"),
        ({"type": "Order Paid"}, "type"),
        ({"type": 3}, "type"),
        ({"occurredAt": "yesterday"}, "occurredAt"),
        ({"occurredAt": 1700000000}, "occurredAt"),
        ({"version": 2}, "version"),
        ({"version": "1"}, "version"),
        ({"version": True}, "version"),
        ({"data": []}, "data"),
    ],
)
def test_envelope_parse_rejects_a_bad_field(changes, field):
    envelope = {**EnvelopeFactory(), **changes}

    with pytest.raises(MalformedEnvelope) as excinfo:
        envelope_parse(envelope=envelope)

    assert set(excinfo.value.errors) == {field}


def test_envelope_parse_lists_every_missing_field():
    with pytest.raises(MalformedEnvelope) as excinfo:
        envelope_parse(envelope={"eventId": "e-1"})

    assert set(excinfo.value.errors) == {"type", "orderId", "occurredAt", "version", "data"}
