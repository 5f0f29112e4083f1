"""The public /users routes and /internal/verify, through HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from users.models import RateLimitEvent, RevokedAccessToken, Role, User
from users.services import token_pair_issue
from users.tests.factories import DEFAULT_PASSWORD, AdminUserFactory, UserFactory
from users.tests.helpers import (
    access_token_signed_with_other_key,
    expired_access_token,
    with_claims_changed,
)

pytestmark = pytest.mark.django_db

REGISTER = "/users/register"
LOGIN = "/users/login"
REFRESH = "/users/token/refresh"
LOGOUT = "/users/logout"
ME = "/users/me"
VERIFY = "/internal/verify"

NEW_USER = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "email": "Ada.Lovelace@Example.com",
    "password": "analytical-engine-1843",
}


def user_json(user: User) -> dict:
    return {
        "id": str(user.pk),
        "firstName": user.first_name,
        "lastName": user.last_name,
        "email": user.email,
        "role": user.role,
        "createdAt": user.created_at.isoformat().replace("+00:00", "Z"),
    }


def bearer(token: str) -> APIClient:
    return APIClient(headers={"Authorization": f"Bearer {token}"})


def login(client: APIClient, email: str, password: str = DEFAULT_PASSWORD):
    return client.post(LOGIN, {"email": email, "password": password}, format="json")


# --- register ---------------------------------------------------------------------------------


def test_register_creates_a_user_and_answers_it_without_the_password(api_client):
    response = api_client.post(REGISTER, NEW_USER, format="json")

    assert response.status_code == 201
    user = User.objects.get()
    assert response.json() == {"message": "User registered successfully.", "user": user_json(user)}
    assert user.email == "ada.lovelace@example.com"
    assert user.role == Role.USER
    assert "password" not in response.json()["user"]
    assert identify_hasher(user.password).algorithm == "argon2"
    assert user.check_password(NEW_USER["password"])


def test_register_rejects_an_email_taken_in_another_letter_case(api_client):
    UserFactory(email="ada.lovelace@example.com")

    response = api_client.post(
        REGISTER, {**NEW_USER, "email": "ADA.LOVELACE@EXAMPLE.COM"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "message": "A user with this email already exists.",
        "code": "email_taken",
        "errors": {"email": ["A user with this email already exists."]},
    }
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "This password is too short. It must contain at least 8 characters."),
        ("password123", "This password is too common."),
        ("83920174659", "This password is entirely numeric."),
        ("ada.lovelace", "The password is too similar to the email."),
    ],
)
def test_register_rejects_a_password_that_fails_validation(api_client, password, message):
    response = api_client.post(REGISTER, {**NEW_USER, "password": password}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert message in response.json()["errors"]["password"]
    assert not User.objects.exists()


def test_register_names_every_missing_field(api_client):
    response = api_client.post(REGISTER, {}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "firstName": ["This field is required."],
        "lastName": ["This field is required."],
        "email": ["This field is required."],
        "password": ["This field is required."],
    }


def test_register_rejects_values_of_the_wrong_type(api_client):
    body = {"firstName": 7, "lastName": ["x"], "email": True, "password": {"a": 1}}

    response = api_client.post(REGISTER, body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "firstName": ["Must be a string."],
        "lastName": ["Must be a string."],
        "email": ["Enter a valid email address."],
        "password": ["Must be a string."],
    }
    assert not User.objects.exists()


def test_register_rejects_over_long_strings(api_client):
    body = {
        **NEW_USER,
        "firstName": "a" * 151,
        "email": "a" * 250 + "@example.com",
    }

    response = api_client.post(REGISTER, body, format="json")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"firstName", "email"}
    assert not User.objects.exists()


def test_register_refuses_to_set_the_role(api_client):
    response = api_client.post(REGISTER, {**NEW_USER, "role": "admin"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"role": ["This field cannot be set."]}
    assert not User.objects.exists()


def test_register_answers_malformed_json_with_400(api_client):
    response = api_client.post(REGISTER, '{"email": ', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


def test_register_rejects_a_body_that_is_not_an_object(api_client):
    response = api_client.post(REGISTER, ["a", "b"], format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_register_rejects_a_form_encoded_body_with_415(api_client):
    response = api_client.post(REGISTER, NEW_USER)

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_register_is_throttled_per_client_address(api_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"register": "2/hour", "token_refresh": "100/minute"},
    }
    for n in range(2):
        body = {**NEW_USER, "email": f"user{n}@example.com"}
        assert api_client.post(REGISTER, body, format="json").status_code == 201

    response = api_client.post(REGISTER, {**NEW_USER, "email": "third@example.com"}, format="json")

    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 3600
    assert User.objects.count() == 2


# --- login ------------------------------------------------------------------------------------


def test_login_answers_tokens_and_sets_the_http_only_cookie(api_client, user):
    response = login(api_client, user.email.upper())

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"message", "token", "refresh"}
    assert body["message"] == "Login successful."
    cookie = response.cookies["userAuthToken"]
    assert cookie.value == body["token"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["secure"] is True
    assert cookie["max-age"] == 15 * 60


@pytest.mark.parametrize(
    "credentials",
    [
        {"email": "user-does-not-exist@example.com", "password": DEFAULT_PASSWORD},
        {"password": "wrong-password-entirely"},
    ],
)
def test_login_rejects_bad_credentials_with_401(api_client, user, credentials):
    body = {"email": user.email, **credentials}

    response = api_client.post(LOGIN, body, format="json")

    assert response.status_code == 401
    assert response.json() == {
        "message": "Invalid email or password.",
        "code": "invalid_credentials",
        "errors": {},
    }
    assert "userAuthToken" not in response.cookies


def test_login_rejects_a_deactivated_user(api_client):
    user = UserFactory(is_active=False)

    assert login(api_client, user.email).status_code == 401


def test_login_requires_email_and_password(api_client):
    response = api_client.post(LOGIN, {"email": 5}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "email": ["Must be a string."],
        "password": ["This field is required."],
    }


def test_login_is_throttled_per_email_after_repeated_failures(api_client, user, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_EMAIL = 3
    for _ in range(3):
        assert login(api_client, user.email, "wrong-password").status_code == 401

    response = login(api_client, user.email)

    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= settings.LOGIN_FAILURE_WINDOW_SECONDS
    assert login(APIClient(REMOTE_ADDR="10.0.0.9"), user.email).status_code == 429


def test_login_is_throttled_per_client_address_across_emails(api_client, user, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_IP = 3
    for n in range(3):
        assert login(api_client, f"guess{n}@example.com", "wrong-password").status_code == 401

    response = login(api_client, user.email)

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert login(APIClient(REMOTE_ADDR="10.0.0.9"), user.email).status_code == 200


def test_login_success_clears_the_failures_of_that_email(api_client, user, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_EMAIL = 3
    for _ in range(2):
        login(api_client, user.email, "wrong-password")
    assert login(api_client, user.email).status_code == 200

    for _ in range(2):
        login(api_client, user.email, "wrong-password")

    assert login(api_client, user.email).status_code == 200


def _concurrently(count: int, call) -> list[int]:
    """``call(n)`` from ``count`` threads released at once; their status codes."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    barrier = threading.Barrier(count)

    def run(n: int) -> int:
        try:
            barrier.wait()
            return call(n)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_passwords_get_at_most_the_limit_of_checks(settings):
    """Counted before the hash is checked: 20 guesses at once, at most 5 are tried."""
    settings.LOGIN_FAILURE_LIMIT_PER_EMAIL = 5
    user = UserFactory()

    statuses = _concurrently(
        20,
        lambda n: login(APIClient(REMOTE_ADDR=f"10.2.0.{n}"), user.email, f"guess-{n}").status_code,
    )

    assert statuses.count(401) <= 5, statuses
    assert statuses.count(401) + statuses.count(429) == 20, statuses
    assert RateLimitEvent.objects.filter(scope="login_email").count() == statuses.count(401)


@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_current_passwords_get_at_most_the_limit_of_checks(settings):
    settings.LOGIN_FAILURE_LIMIT_PER_EMAIL = 3
    user = UserFactory()
    access = token_pair_issue(user=user).access

    statuses = _concurrently(
        20,
        lambda n: change_password(bearer(access), current=f"guess-{n}").status_code,
    )

    assert statuses.count(400) <= 3, statuses
    assert statuses.count(400) + statuses.count(429) == 20, statuses
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_a_throttled_login_does_not_prolong_the_wait(api_client, user, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_EMAIL = 2
    for _ in range(2):
        login(api_client, user.email, "wrong-password")
    for _ in range(5):
        assert login(api_client, user.email).status_code == 429

    assert RateLimitEvent.objects.filter(scope="login_email").count() == 2


def test_a_successful_login_is_not_counted_against_the_client_address(api_client, user, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_IP = 2
    for _ in range(5):
        assert login(api_client, user.email).status_code == 200
    assert not RateLimitEvent.objects.exists()


# --- me ---------------------------------------------------------------------------------------


def test_me_answers_the_caller(auth_client, user):
    response = auth_client.get(ME)

    assert response.status_code == 200
    assert response.json() == user_json(user)


def test_me_accepts_the_access_token_as_the_cookie(api_client, user, tokens):
    api_client.cookies["userAuthToken"] = tokens.access

    response = api_client.get(ME)

    assert response.status_code == 200
    assert response.json()["id"] == str(user.pk)


def test_me_requires_authentication(api_client):
    response = api_client.get(ME)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_me_rejects_a_token_signed_with_another_key(user):
    response = bearer(access_token_signed_with_other_key(user)).get(ME)

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_me_makes_one_query(auth_client, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert auth_client.get(ME).status_code == 200


def test_me_patch_changes_the_names(auth_client, user):
    response = auth_client.patch(ME, {"firstName": "Grace", "lastName": "Hopper"}, format="json")

    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("Grace", "Hopper")
    assert response.json() == user_json(user)


def test_me_patch_changes_the_email_stored_in_lower_case(auth_client, user):
    response = auth_client.patch(ME, {"email": "New.Address@Example.com"}, format="json")

    assert response.status_code == 200
    assert response.json()["email"] == "new.address@example.com"
    user.refresh_from_db()
    assert user.email == "new.address@example.com"


def test_me_patch_rejects_an_email_taken_by_another_user(auth_client, user):
    UserFactory(email="taken@example.com")
    original_email = user.email

    response = auth_client.patch(ME, {"email": "Taken@Example.com"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "email_taken"
    assert response.json()["errors"] == {"email": ["A user with this email already exists."]}
    user.refresh_from_db()
    assert user.email == original_email


def test_me_patch_accepts_the_own_email_in_another_case(auth_client, user):
    response = auth_client.patch(ME, {"email": user.email.upper()}, format="json")

    assert response.status_code == 200


def test_me_patch_cannot_change_the_role(auth_client, user):
    response = auth_client.patch(ME, {"role": "admin", "firstName": "Eve"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"role": ["This field cannot be set."]}
    user.refresh_from_db()
    assert user.role == Role.USER
    assert user.first_name != "Eve"


def test_me_patch_rejects_a_blank_or_over_long_name(auth_client):
    response = auth_client.patch(ME, {"firstName": "", "lastName": "x" * 151}, format="json")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"firstName", "lastName"}


def test_me_does_not_allow_put(auth_client):
    assert auth_client.put(ME, {"firstName": "X"}, format="json").status_code == 405


# --- refresh ----------------------------------------------------------------------------------


def test_refresh_rotates_the_pair_and_rejects_the_old_refresh_token(api_client, tokens):
    response = api_client.post(REFRESH, {"refresh": tokens.refresh}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Token refreshed."
    assert body["refresh"] != tokens.refresh
    assert response.cookies["userAuthToken"].value == body["token"]
    assert bearer(body["token"]).get(ME).status_code == 200

    replay = api_client.post(REFRESH, {"refresh": tokens.refresh}, format="json")

    assert replay.status_code == 401
    assert replay.json() == {
        "message": "Refresh token is invalid, expired or already used.",
        "code": "refresh_token_not_valid",
        "errors": {"refresh": ["Refresh token is invalid, expired or already used."]},
    }


@pytest.mark.parametrize("mangle", ["access", "garbage", "other_key"])
def test_refresh_rejects_what_is_not_one_of_its_refresh_tokens(api_client, user, tokens, mangle):
    candidates = {
        "access": tokens.access,
        "garbage": "not.a.token",
        "other_key": access_token_signed_with_other_key(user),
    }

    response = api_client.post(REFRESH, {"refresh": candidates[mangle]}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "refresh_token_not_valid"


def test_refresh_rejects_an_expired_refresh_token(api_client, user):
    token = RefreshToken.for_user(user)
    token.set_exp(from_time=timezone.now() - timedelta(days=8), lifetime=timedelta(days=7))

    response = api_client.post(REFRESH, {"refresh": str(token)}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "refresh_token_not_valid"


def test_refresh_rejects_the_token_of_a_deactivated_user(api_client, user, tokens):
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = api_client.post(REFRESH, {"refresh": tokens.refresh}, format="json")

    assert response.status_code == 401


def test_refresh_requires_a_string_refresh_token(api_client):
    response = api_client.post(REFRESH, {"refresh": 12}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"refresh": ["Must be a string."]}


# --- logout -----------------------------------------------------------------------------------


def test_logout_revokes_the_refresh_and_access_tokens_and_clears_the_cookie(
    auth_client, tokens, api_client, internal_client
):
    response = auth_client.post(LOGOUT, {"refresh": tokens.refresh}, format="json")

    assert response.status_code == 200
    assert response.json() == {"message": "Logged out."}
    assert response.cookies["userAuthToken"].value == ""
    assert response.cookies["userAuthToken"]["max-age"] == 0
    assert api_client.post(REFRESH, {"refresh": tokens.refresh}, format="json").status_code == 401
    assert auth_client.get(ME).status_code == 401
    internal_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.access}")
    assert internal_client.get(VERIFY).status_code == 401


def test_logout_by_get_only_clears_the_cookie_for_old_clients(api_client, tokens):
    """A GET any other site can make a browser send: it revokes nothing."""
    api_client.cookies["userAuthToken"] = tokens.access

    response = api_client.get(LOGOUT, headers={"Origin": "https://evil.example.net"})

    assert response.status_code == 200
    assert response.cookies["userAuthToken"].value == ""
    assert response.cookies["userAuthToken"]["max-age"] == 0
    assert not RevokedAccessToken.objects.exists()
    assert bearer(tokens.access).get(ME).status_code == 200


@pytest.mark.parametrize("token", [None, "expired.or.garbage"])
def test_logout_by_get_clears_the_cookie_whatever_the_token(api_client, token):
    if token:
        api_client.cookies["userAuthToken"] = token
    response = api_client.get(LOGOUT)
    assert response.status_code == 200
    assert response.cookies["userAuthToken"].value == ""


def test_logout_refuses_another_users_refresh_token_and_changes_nothing(auth_client, api_client):
    other_tokens = token_pair_issue(user=UserFactory())

    response = auth_client.post(LOGOUT, {"refresh": other_tokens.refresh}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "refresh_token_not_owned"
    assert not RevokedAccessToken.objects.exists()
    assert auth_client.get(ME).status_code == 200
    refreshed = api_client.post(REFRESH, {"refresh": other_tokens.refresh}, format="json")
    assert refreshed.status_code == 200


def test_logout_rejects_an_invalid_refresh_token_and_revokes_nothing(auth_client):
    response = auth_client.post(LOGOUT, {"refresh": "not.a.token"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "refresh_token_not_valid"
    assert not RevokedAccessToken.objects.exists()


def test_logout_does_not_affect_other_sessions_of_other_users(auth_client, tokens):
    other = UserFactory()
    other_tokens = token_pair_issue(user=other)

    auth_client.post(LOGOUT, {"refresh": tokens.refresh}, format="json")

    assert bearer(other_tokens.access).get(ME).status_code == 200


def test_logout_requires_authentication(api_client):
    assert api_client.post(LOGOUT, {}, format="json").status_code == 401


# --- the whole journey ------------------------------------------------------------------------


def test_register_login_me_refresh_logout_journey(api_client):
    assert api_client.post(REGISTER, NEW_USER, format="json").status_code == 201

    logged_in = login(api_client, NEW_USER["email"], NEW_USER["password"]).json()
    me = bearer(logged_in["token"]).get(ME)
    assert me.status_code == 200
    assert me.json()["email"] == "ada.lovelace@example.com"

    refreshed = api_client.post(REFRESH, {"refresh": logged_in["refresh"]}, format="json").json()
    session = bearer(refreshed["token"])
    assert session.get(ME).status_code == 200

    assert session.post(LOGOUT, {"refresh": refreshed["refresh"]}, format="json").status_code == 200
    assert session.get(ME).status_code == 401
    again = api_client.post(REFRESH, {"refresh": refreshed["refresh"]}, format="json")
    assert again.status_code == 401


# --- sessions: refresh-token reuse, password change --------------------------------------------


def refresh(client: APIClient, token: str):
    return client.post(REFRESH, {"refresh": token}, format="json")


def verify_status(token: str) -> int:
    client = APIClient(headers={"X-Internal-Token": "test-internal-token"})
    return client.get(VERIFY, headers={"Authorization": f"Bearer {token}"}).status_code


def test_reuse_of_a_rotated_refresh_token_ends_that_session_for_thief_and_victim(api_client, user):
    victim_login = login(api_client, user.email).json()
    other_device = login(APIClient(), user.email).json()
    victim = refresh(api_client, victim_login["refresh"]).json()
    # The thief copied the victim's current refresh token and uses it first.
    thief = refresh(APIClient(), victim["refresh"]).json()
    thief_again = refresh(APIClient(), thief["refresh"]).json()

    # The victim's client, unaware, presents the same token: reuse.
    reused = refresh(api_client, victim["refresh"])

    assert reused.status_code == 401
    assert reused.json()["code"] == "refresh_token_not_valid"
    session = [victim_login, victim, thief, thief_again]
    assert [verify_status(pair["token"]) for pair in session] == [401] * 4
    assert [bearer(pair["token"]).get(ME).status_code for pair in session] == [401] * 4
    assert [refresh(APIClient(), pair["refresh"]).status_code for pair in session] == [401] * 4
    # The same user's other login is another session: untouched.
    assert verify_status(other_device["token"]) == 200
    assert refresh(APIClient(), other_device["refresh"]).status_code == 200


def test_reuse_of_the_first_refresh_token_of_a_session_ends_it_too(api_client, user):
    first = login(api_client, user.email).json()
    latest = first
    for _ in range(3):
        latest = refresh(api_client, latest["refresh"]).json()

    assert refresh(api_client, first["refresh"]).status_code == 401

    assert verify_status(latest["token"]) == 401
    assert refresh(api_client, latest["refresh"]).status_code == 401


def test_a_chain_of_twenty_rotations_keeps_the_session_alive(api_client, user):
    pair = login(api_client, user.email).json()
    issued = [pair]
    for _ in range(20):
        response = refresh(api_client, pair["refresh"])
        assert response.status_code == 200
        pair = response.json()
        issued.append(pair)

    assert verify_status(pair["token"]) == 200
    assert bearer(pair["token"]).get(ME).status_code == 200
    # Rotation revokes nothing: the earlier access tokens live out their 15 minutes.
    assert not RevokedAccessToken.objects.exists()
    assert verify_status(issued[0]["token"]) == 200
    assert refresh(api_client, pair["refresh"]).status_code == 200


def test_logout_with_the_access_token_of_a_session_ended_by_reuse_is_401_as_after_a_logout(
    api_client, user
):
    first = login(api_client, user.email).json()
    rotated = refresh(api_client, first["refresh"]).json()
    refresh(api_client, first["refresh"])  # reuse: the session ends

    response = bearer(rotated["token"]).post(LOGOUT, {"refresh": rotated["refresh"]}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_logout_of_a_session_ended_by_reuse_from_another_session_is_accepted(api_client, user):
    first = login(api_client, user.email).json()
    rotated = refresh(api_client, first["refresh"]).json()
    refresh(api_client, first["refresh"])  # reuse: the session ends
    other = login(APIClient(), user.email).json()

    response = bearer(other["token"]).post(LOGOUT, {"refresh": rotated["refresh"]}, format="json")

    assert response.status_code == 200
    assert response.json() == {"message": "Logged out."}
    assert response.cookies["userAuthToken"].value == ""


def test_logout_ends_the_session_of_the_refresh_token_including_its_earlier_access_tokens(
    api_client, user
):
    first = login(api_client, user.email).json()
    latest = refresh(api_client, first["refresh"]).json()
    other = login(APIClient(), user.email).json()

    response = bearer(latest["token"]).post(LOGOUT, {"refresh": latest["refresh"]}, format="json")

    assert response.status_code == 200
    assert verify_status(first["token"]) == 401
    assert verify_status(other["token"]) == 200


PASSWORD = "/users/me/password"
NEW_PASSWORD = "a-brand-new-passphrase-42"


def change_password(client: APIClient, current: str = DEFAULT_PASSWORD, new: str = NEW_PASSWORD):
    return client.post(PASSWORD, {"currentPassword": current, "newPassword": new}, format="json")


def test_password_change_ends_every_session_and_answers_a_new_pair(api_client, user):
    current = login(api_client, user.email).json()
    rotated = refresh(api_client, current["refresh"]).json()
    other_device = login(APIClient(), user.email).json()

    response = change_password(bearer(rotated["token"]))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"message", "token", "refresh"}
    assert body["message"] == "Password changed."
    assert response.cookies["userAuthToken"].value == body["token"]
    old_sessions = [current, rotated, other_device]
    assert [verify_status(pair["token"]) for pair in old_sessions] == [401] * 3
    assert [refresh(APIClient(), pair["refresh"]).status_code for pair in old_sessions] == [401] * 3
    assert verify_status(body["token"]) == 200
    assert bearer(body["token"]).get(ME).status_code == 200
    assert refresh(APIClient(), body["refresh"]).status_code == 200
    assert login(APIClient(), user.email, NEW_PASSWORD).status_code == 200
    assert login(APIClient(), user.email).status_code == 401


def test_password_change_does_not_touch_other_users(auth_client):
    other = token_pair_issue(user=UserFactory())

    assert change_password(auth_client).status_code == 200

    assert verify_status(other.access) == 200
    assert refresh(APIClient(), other.refresh).status_code == 200


def test_password_change_with_a_wrong_current_password_is_400_and_revokes_nothing(
    auth_client, tokens, user
):
    response = change_password(auth_client, current="not-my-password")

    assert response.status_code == 400
    assert response.json() == {
        "message": "The current password is not correct.",
        "code": "wrong_password",
        "errors": {"currentPassword": ["The current password is not correct."]},
    }
    assert verify_status(tokens.access) == 200
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_password_change_is_throttled_after_repeated_wrong_current_passwords(
    auth_client, user, settings
):
    settings.LOGIN_FAILURE_LIMIT_PER_EMAIL = 2
    for _ in range(2):
        assert change_password(auth_client, current="wrong-guess").status_code == 400

    response = change_password(auth_client)

    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= settings.LOGIN_FAILURE_WINDOW_SECONDS
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_password_change_rejects_a_weak_new_password_under_its_field_name(auth_client, tokens):
    response = change_password(auth_client, new="password123")

    assert response.status_code == 400
    assert response.json()["errors"] == {"newPassword": ["This password is too common."]}
    assert verify_status(tokens.access) == 200


def test_password_change_requires_both_fields_and_nothing_else(auth_client):
    response = auth_client.post(PASSWORD, {"newPassword": 5, "role": "admin"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "currentPassword": ["This field is required."],
        "newPassword": ["Must be a string."],
        "role": ["This field cannot be set."],
    }


def test_password_change_requires_authentication(api_client):
    assert change_password(api_client).status_code == 401


# --- internal verify --------------------------------------------------------------------------


def verify(internal_client: APIClient, token: str):
    return internal_client.get(VERIFY, headers={"Authorization": f"Bearer {token}"})


def test_verify_answers_who_the_token_belongs_to(internal_client):
    admin = AdminUserFactory()
    token = token_pair_issue(user=admin).access

    response = verify(internal_client, token)

    assert response.status_code == 200
    assert response.json() == {"userId": str(admin.pk), "email": admin.email, "role": "admin"}
    assert response["Cache-Control"] == "no-store"


def test_verify_accepts_the_previous_internal_token_during_rotation(tokens):
    client = APIClient(headers={"X-Internal-Token": "test-internal-token-previous"})

    assert verify(client, tokens.access).status_code == 200


@pytest.mark.parametrize("header", [None, "wrong-token"])
def test_verify_requires_the_internal_token(tokens, header):
    client = APIClient(headers={"X-Internal-Token": header} if header else {})

    response = verify(client, tokens.access)

    assert response.status_code == 401
    assert set(response.json()) == {"message", "code", "errors"}
    assert "userId" not in response.json()


def test_verify_rejects_a_request_without_an_access_token(internal_client):
    response = internal_client.get(VERIFY)

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(expired_access_token, id="expired"),
        pytest.param(access_token_signed_with_other_key, id="other-key"),
        pytest.param(
            lambda user: with_claims_changed(
                token_pair_issue(user=user).access, user_id=str(AdminUserFactory().pk)
            ),
            id="tampered",
        ),
        pytest.param(lambda user: token_pair_issue(user=user).refresh, id="refresh-not-access"),
        pytest.param(lambda user: "garbage", id="garbage"),
    ],
)
def test_verify_rejects_a_bad_access_token(internal_client, user, make_token):
    response = verify(internal_client, make_token(user))

    assert response.status_code == 401
    assert response.json() == {
        "message": "Token is invalid or expired.",
        "code": "token_not_valid",
        "errors": {},
    }


def test_verify_rejects_a_revoked_access_token(internal_client, auth_client, tokens):
    assert verify(internal_client, tokens.access).status_code == 200
    auth_client.post(LOGOUT, {}, format="json")

    assert verify(internal_client, tokens.access).status_code == 401


def test_verify_rejects_the_token_of_a_deactivated_user(internal_client, user, tokens):
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert verify(internal_client, tokens.access).status_code == 401


def test_verify_makes_one_query(internal_client, tokens, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert verify(internal_client, tokens.access).status_code == 200


def test_me_rejects_the_token_of_a_deactivated_user(auth_client, user):
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = auth_client.get(ME)

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_register_answers_json_nested_too_deep_with_400(api_client):
    body = "[" * 100_000 + "]" * 100_000

    response = api_client.post(REGISTER, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


def test_register_rejects_null_characters(api_client):
    response = api_client.post(REGISTER, {**NEW_USER, "firstName": "a\x00b"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"firstName": ["Null characters are not allowed."]}
    assert not User.objects.exists()


def test_refresh_behind_a_trusted_proxy_is_throttled_per_forwarded_client(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "NUM_PROXIES": 1,
        "DEFAULT_THROTTLE_RATES": {"register": "60/hour", "token_refresh": "1/minute"},
    }
    first = APIClient(HTTP_X_FORWARDED_FOR="203.0.113.1")
    second = APIClient(HTTP_X_FORWARDED_FOR="203.0.113.2")

    assert first.post(REFRESH, {"refresh": "x"}, format="json").status_code == 401
    assert first.post(REFRESH, {"refresh": "x"}, format="json").status_code == 429
    assert second.post(REFRESH, {"refresh": "x"}, format="json").status_code == 401


def test_login_makes_a_fixed_number_of_queries(api_client, user, django_assert_num_queries):
    # The attempt recorded (one INSERT for email and IP), its two counts, the user, then (in a
    # transaction) clear the email's failures and the attempt, stamp last_login, record the
    # refresh token and its session pair.
    with django_assert_num_queries(11):
        assert login(api_client, user.email).status_code == 200


def test_logout_with_a_refresh_token_already_revoked_is_accepted(api_client, user):
    first, second = token_pair_issue(user=user), token_pair_issue(user=user)
    bearer(first.access).post(LOGOUT, {"refresh": first.refresh}, format="json")

    response = bearer(second.access).post(LOGOUT, {"refresh": first.refresh}, format="json")

    assert response.status_code == 200
    assert api_client.post(REFRESH, {"refresh": second.refresh}, format="json").status_code == 200


def test_login_failures_do_not_store_what_was_typed_as_the_email(api_client):
    login(api_client, "Hunter2-typed-in-the-wrong-box", "wrong-password")

    keys = list(RateLimitEvent.objects.values_list("key", flat=True))
    assert len(keys) == 2
    assert not any("hunter2" in key.lower() for key in keys)
