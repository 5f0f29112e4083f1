"""Migrations are generated from the models and stay in step with them."""

from django.core.management import call_command


def test_models_have_no_changes_missing_from_migrations():
    # Exits with status 1 (SystemExit) when a model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
