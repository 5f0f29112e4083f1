"""Migrations are generated from the models and stay in step with them; data migrations work."""

import importlib

from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from products.models import Product
from products.tests.factories import ProductFactory


def test_models_have_no_changes_missing_from_migrations():
    # Exits with status 1 (SystemExit) when a model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_drop_product_sales_ledger_removes_the_old_per_order_sales_from_products():
    migration = importlib.import_module("products.migrations.0002_drop_product_sales_ledger")
    product = ProductFactory(quantity=4)
    products = connection.database[Product._meta.db_table]
    sale = {"orderId": "order-1", "quantity": 1, "at": timezone.now()}
    products.update_one({"_id": product.pk}, {"$set": {"sales": [sale], "holds": []}})

    with connection.schema_editor() as schema_editor:
        migration.drop_sales_ledger(django_apps, schema_editor)

    document = products.find_one({"_id": product.pk})
    assert "sales" not in document
    assert (document["quantity"], document["holds"]) == (4, [])
