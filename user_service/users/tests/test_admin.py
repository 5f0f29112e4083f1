"""The admin site: staff can find users; everyone else is sent to the login page."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from users.models import User
from users.services import token_pair_issue
from users.tests.factories import AdminUserFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/users/user/"
REFRESH = "/users/token/refresh"


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


def test_admin_setting_a_password_ends_every_session_of_that_user(staff_client, internal_client):
    user = UserFactory()
    tokens = token_pair_issue(user=user)

    response = staff_client.post(
        f"{CHANGELIST}{user.pk}/password/",
        {
            "usable_password": "true",
            "password1": "an-admin-chosen-passphrase",
            "password2": "an-admin-chosen-passphrase",
        },
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("an-admin-chosen-passphrase")
    verify = internal_client.get(
        "/internal/verify", headers={"Authorization": f"Bearer {tokens.access}"}
    )
    assert verify.status_code == 401
    assert APIClient().post(REFRESH, {"refresh": tokens.refresh}, format="json").status_code == 401


def test_admin_deactivating_a_user_ends_their_sessions_for_good(staff_client):
    user = UserFactory()
    tokens = token_pair_issue(user=user)
    form = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role,
    }

    deactivated = staff_client.post(f"{CHANGELIST}{user.pk}/change/", form)
    User.objects.filter(pk=user.pk).update(is_active=True)

    assert deactivated.status_code == 302
    assert APIClient().post(REFRESH, {"refresh": tokens.refresh}, format="json").status_code == 401
    me = APIClient(headers={"Authorization": f"Bearer {tokens.access}"}).get("/users/me")
    assert me.status_code == 401


def test_admin_editing_an_active_user_leaves_their_sessions(staff_client):
    user = UserFactory()
    tokens = token_pair_issue(user=user)
    form = {
        "email": user.email,
        "first_name": "Renamed",
        "last_name": user.last_name,
        "role": user.role,
        "is_active": "on",
    }

    assert staff_client.post(f"{CHANGELIST}{user.pk}/change/", form).status_code == 302

    assert APIClient().post(REFRESH, {"refresh": tokens.refresh}, format="json").status_code == 200
