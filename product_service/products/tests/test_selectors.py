"""The catalogue reads answer exactly what the ORM answers for the same filters and orderings.

The reads send ``products.queries`` shapes through pymongo; the ORM querysets here are the
oracle (the selectors' previous implementation), compared on whole rendered products.
"""

import itertools
import re
from decimal import Decimal

import pytest
from django.db.models import Q

from products import selectors
from products.constants import Category
from products.models import Product, Reservation
from products.queries import ORDERINGS, ProductFilters
from products.serializers import ProductSerializer, ReservationSerializer
from products.tests.factories import ProductFactory, ReservationFactory


def _orm_list(filters: ProductFilters) -> list[Product]:
    queryset = Product.objects.all()
    if filters.category:
        queryset = queryset.filter(category=filters.category)
    if filters.seller:
        queryset = queryset.filter(seller=filters.seller)
    if filters.tags:
        queryset = queryset.filter(tags__overlap=filters.tags)
    if filters.min_price is not None:
        queryset = queryset.filter(price__gte=filters.min_price)
    if filters.max_price is not None:
        queryset = queryset.filter(price__lte=filters.max_price)
    if filters.search:
        pattern = re.escape(filters.search)
        queryset = queryset.filter(
            Q(title__iregex=pattern) | Q(description__iregex=pattern) | Q(tags__iregex=pattern)
        )
    prefix = "-" if filters.ordering.startswith("-") else ""
    field_name = ORDERINGS[filters.ordering.lstrip("-")]
    return list(queryset.order_by(f"{prefix}{field_name}", f"{prefix}id"))


@pytest.fixture
def catalogue():
    categories = [Category.BOOKS, Category.SPORTS, Category.OTHER]
    for n in range(36):
        ProductFactory(
            title=f"{'Lamp' if n % 4 == 0 else 'Book'} {n % 7}",  # titles repeat: ties
            description="A fine (lamp) thing." if n % 5 == 0 else "Plain.",
            price=Decimal(n % 6) + Decimal("0.37"),  # prices repeat: ties
            category=categories[n % 3],
            tags=[f"tag{n % 4}", "LAMP.x"] if n % 6 == 0 else [f"tag{n % 4}"],
            seller=str(n % 3),
        )
    Product.objects.filter(title="Book 3").update(review_count=2)


FILTERS = [
    ProductFilters(),
    ProductFilters(category=Category.BOOKS, min_price=Decimal("0.37")),
    ProductFilters(category=Category.BOOKS, min_price=Decimal("2.37"), max_price=Decimal("4.37")),
    ProductFilters(seller="1", tags=["tag1", "tag2"]),
    ProductFilters(tags=["tag3"], max_price=Decimal("1")),
    ProductFilters(search="lamp"),
    ProductFilters(search="(LAMP)", category=Category.BOOKS),
    ProductFilters(search="lamp.x"),
    ProductFilters(category=Category.SPORTS, seller="2", tags=["tag0"], min_price=Decimal("0")),
]
ORDERING_NAMES = [name for key in ORDERINGS for name in (key, f"-{key}")]


@pytest.mark.parametrize(
    ("filters", "ordering"),
    list(itertools.product(FILTERS, ORDERING_NAMES)),
)
def test_product_list_answers_as_the_orm_would(catalogue, filters, ordering):
    filters = ProductFilters(**{**filters.__dict__, "ordering": ordering})
    expected = ProductSerializer(_orm_list(filters), many=True).data

    found = selectors.product_list(filters=filters)

    assert found.count() == len(expected)
    assert ProductSerializer(found[0:100], many=True).data == expected
    assert ProductSerializer(found[5:12], many=True).data == expected[5:12]
    if filters != ProductFilters(ordering=ordering):  # a filtered list: count and page at once
        total, page = found.count_and_slice(5, 12)
        assert total == len(expected)
        assert ProductSerializer(page, many=True).data == expected[5:12]


def test_product_get_and_the_old_list_answer_as_the_orm_would(catalogue):
    product = Product.objects.order_by("title").first()
    books = Product.objects.filter(category=Category.BOOKS).order_by("-created_at", "-id")
    named = Product.objects.filter(category=Category.BOOKS, title="Book 1").order_by(
        "-created_at", "-id"
    )

    got = selectors.product_get(product_id=str(product.pk))
    legacy = selectors.product_list_legacy(category=Category.BOOKS)[:1000]
    legacy_named = selectors.product_list_legacy(category=Category.BOOKS, title="Book 1")[:1000]

    assert ProductSerializer(got).data == ProductSerializer(product).data
    assert ProductSerializer(legacy, many=True).data == ProductSerializer(books, many=True).data
    assert [p.pk for p in legacy_named] == [p.pk for p in named]
    assert selectors.product_get(product_id="0123456789abcdef01234567") is None


def test_reservation_get_answers_as_the_orm_would():
    ReservationFactory(
        order_id="o-1",
        items=[{"productId": "p", "title": "T", "unitPrice": "1.50", "quantity": 2}],
    )

    got = selectors.reservation_get(order_id="o-1")

    orm = Reservation.objects.get(order_id="o-1")
    assert ReservationSerializer(got).data == ReservationSerializer(orm).data
    assert (got.pk, got.created_at, got.updated_at) == (orm.pk, orm.created_at, orm.updated_at)
    assert selectors.reservation_get(order_id="o-2") is None
