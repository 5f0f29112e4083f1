"""The user model: email stored in lower case and unique in any letter case."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection

from users.models import User
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_user_email_is_stored_and_looked_up_in_lower_case():
    UserFactory(email="Mixed.Case@Example.COM")

    assert User.objects.get(email="MIXED.case@example.com").email == "mixed.case@example.com"


def test_database_refuses_a_second_email_differing_only_in_case_even_around_the_orm():
    UserFactory(email="one@example.com")

    with pytest.raises(IntegrityError), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO users_user (password, email, first_name, last_name, role, is_active,"
            " is_staff, is_superuser, created_at, updated_at)"
            " VALUES ('x', 'ONE@example.com', 'a', 'b', 'user', true, false, false, now(), now())"
        )


def test_create_superuser_makes_an_admin_who_can_use_the_admin_site():
    admin = User.objects.create_superuser("Boss@Example.com", "a-fine-passphrase")

    assert (admin.email, admin.role, admin.is_staff, admin.is_superuser) == (
        "boss@example.com",
        "admin",
        True,
        True,
    )
