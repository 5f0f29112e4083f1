"""The catalogue's answers rendered from raw documents equal the serializers' answers for the
models the ORM loads."""

from decimal import Decimal

import pytest
from bson import ObjectId

from products.models import Product
from products.serializers import (
    ProductQuantitySerializer,
    ProductSerializer,
    product_quantity_representation,
    product_representation,
)
from products.services import review_create
from products.store import collection, model_from_document
from products.tests.factories import ProductFactory


def _document(product: Product) -> dict:
    return collection(Product).find_one({"_id": product.pk})


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"price": Decimal("0.37"), "tags": ["eco", "gift"], "quantity": 0},
        {"price": Decimal("12.5"), "description": "", "title": "Ünïcode ☕ title"},
        {"price": Decimal("9999999999.99"), "category": "Books", "seller": "42"},
    ],
)
def test_product_representation_of_a_document_is_the_product_serializers_answer(values):
    product = ProductFactory(**values)

    assert (
        product_representation(_document(product))
        == ProductSerializer(Product.objects.get(pk=product.pk)).data
    )


def test_product_representation_shows_the_rating_as_the_serializer_does():
    product = ProductFactory(seller="1")
    for user_id, rating in (("2", 5), ("3", 4), ("4", 4)):
        review_create(product=product, user_id=user_id, rating=rating)

    represented = product_representation(_document(product))

    assert represented["rating"] == Decimal("4.33")
    assert represented == ProductSerializer(Product.objects.get(pk=product.pk)).data


def test_product_representation_of_a_document_missing_fields_is_null_as_for_the_model():
    document = {"_id": ObjectId(), "title": "Old", "price": None, "review_count": 0}

    assert (
        product_representation(document)
        == ProductSerializer(model_from_document(Product, document)).data
    )


def test_product_quantity_representation_is_the_quantity_serializers_answer():
    product = ProductFactory(quantity=17)
    document = collection(Product).find_one({"_id": product.pk}, {"quantity": 1})

    assert product_quantity_representation(document) == {"quantity": 17}
    assert product_quantity_representation(document) == ProductQuantitySerializer(product).data
