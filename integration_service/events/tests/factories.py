"""factory_boy factories: order-event envelopes and event-log rows."""

from __future__ import annotations

import uuid

import factory

from ecommerce_common.contracts import ENVELOPE_VERSION, ORDER_PAID
from events.models import Outcome, ProcessedEvent


class EnvelopeFactory(factory.DictFactory):
    """An order-event envelope as order_service publishes it."""

    eventId = factory.LazyFunction(lambda: str(uuid.uuid4()))
    type = ORDER_PAID
    orderId = factory.LazyFunction(lambda: str(uuid.uuid4()))
    occurredAt = factory.Faker("iso8601")
    version = ENVELOPE_VERSION
    data = factory.Dict({})


class ProcessedEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProcessedEvent

    envelope = factory.SubFactory(EnvelopeFactory)
    # .get: a malformed envelope (no type, no order id) is a valid row too.
    event_id = factory.LazyAttribute(lambda o: o.envelope["eventId"])
    event_type = factory.LazyAttribute(lambda o: o.envelope.get("type", ""))
    order_id = factory.LazyAttribute(lambda o: o.envelope.get("orderId", ""))
    outcome = Outcome.APPLIED
    result = "confirmed"
    attempts = 1
