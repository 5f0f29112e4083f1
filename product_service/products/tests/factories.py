"""factory_boy factories for the catalogue, reviews and reservations."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from products.constants import Category, ReservationState
from products.models import Product, Reservation, Review


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    title = factory.Sequence(lambda n: f"Product {n}")
    description = "A fine thing."
    price = Decimal("10.00")
    category = Category.ELECTRONICS
    quantity = 10
    image_url = "https://img.example.com/p.png"
    tags = factory.LazyFunction(list)
    seller = "7"


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    product = factory.SubFactory(ProductFactory)
    user_id = factory.Sequence(lambda n: str(1000 + n))
    rating = 4


class ReservationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reservation

    order_id = factory.Faker("uuid4")
    state = ReservationState.RESERVED
    items = factory.LazyFunction(list)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=15))
