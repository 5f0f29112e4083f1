"""factory_boy factories for payments."""

import factory

from orders.tests.factories import OrderFactory
from payments.models import Payment, PaymentStatus


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    order = factory.SubFactory(OrderFactory)
    status = PaymentStatus.APPROVED
    amount = factory.LazyAttribute(lambda payment: payment.order.total_amount)
    provider = "simulated"
    charge_id = factory.Sequence(lambda n: f"ch_factory_{n}")
    attempts = 1
