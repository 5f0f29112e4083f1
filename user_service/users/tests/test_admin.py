"""The admin site: staff can find users; everyone else is sent to the login page."""

from __future__ import annotations

import pytest
from django.test import Client

from users.models import User
from users.tests.factories import AdminUserFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/users/user/"


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    client.force_login(AdminUserFactory())
    return client


def test_user_changelist_loads_for_staff_and_searches_by_email(staff_client):
    UserFactory(email="findme@example.com")
    UserFactory(email="other@example.com")

    response = staff_client.get(CHANGELIST, {"q": "FINDME"})

    assert response.status_code == 200
    assert b"findme@example.com" in response.content
    assert b"other@example.com" not in response.content


def test_user_changelist_filters_by_role_active_and_staff(staff_client):
    UserFactory(email="inactive@example.com", is_active=False)

    response = staff_client.get(
        CHANGELIST, {"role__exact": "user", "is_active__exact": "0", "is_staff__exact": "0"}
    )

    assert response.status_code == 200
    assert b"inactive@example.com" in response.content


def test_user_add_and_change_pages_load_for_staff(staff_client):
    user = UserFactory()

    assert staff_client.get(f"{CHANGELIST}add/").status_code == 200
    assert staff_client.get(f"{CHANGELIST}{user.pk}/change/").status_code == 200


def test_admin_can_add_a_user_whose_email_is_stored_in_lower_case(staff_client):
    response = staff_client.post(
        f"{CHANGELIST}add/",
        {
            "email": "New.Staff@Example.com",
            "first_name": "New",
            "last_name": "Staff",
            "role": "user",
            "usable_password": "true",
            "password1": "a-fine-passphrase",
            "password2": "a-fine-passphrase",
        },
    )

    assert response.status_code == 302
    assert User.objects.filter(email="new.staff@example.com").exists()


def test_user_changelist_redirects_a_non_staff_user_to_login():
    client = Client()
    client.force_login(UserFactory())

    response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_user_password_change_page_loads_for_staff(staff_client):
    user = UserFactory()

    assert staff_client.get(f"{CHANGELIST}{user.pk}/password/").status_code == 200
