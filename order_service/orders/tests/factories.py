"""factory_boy factories for orders (rows as order_create would have stored them)."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from orders.models import Order, OrderItem, StatusHistory
from orders.status import OrderStatus


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order
        skip_postgeneration_save = True

    user_id = "7"
    status = OrderStatus.PAYMENT_PENDING
    total_amount = Decimal("20.00")
    payment_deadline = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=15))

    @factory.post_generation
    def with_items(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create and extracted is not False:
            OrderItemFactory(order=self, quantity=2, unit_price=self.total_amount / 2)
            StatusHistoryFactory(order=self, from_status="", to_status=OrderStatus.PAYMENT_PENDING)
            if self.status != OrderStatus.PAYMENT_PENDING:
                StatusHistoryFactory(
                    order=self, from_status=OrderStatus.PAYMENT_PENDING, to_status=self.status
                )


class OrderItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory, with_items=False)
    product_id = factory.Sequence(lambda n: f"{n:024x}")
    title = factory.Sequence(lambda n: f"Product {n}")
    unit_price = Decimal("10.00")
    quantity = 1


class StatusHistoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StatusHistory

    order = factory.SubFactory(OrderFactory, with_items=False)
    from_status = ""
    to_status = OrderStatus.PAYMENT_PENDING
    reason = "factory"
