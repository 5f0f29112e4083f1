"""Routes every service serves: readiness on this service's store, the schema and its UI, JSON
errors. (``/health`` is common code: common/tests/test_middleware.py.)"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_ready_checks_the_database(api_client):
    response = api_client.get("/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def test_openapi_schema_lists_the_user_routes(api_client):
    response = api_client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/users/register", "/users/login", "/users/me", "/internal/verify"} <= set(paths)


def test_openapi_schema_is_public_even_to_a_revoked_token(auth_client):
    auth_client.post("/users/logout", {}, format="json")

    assert auth_client.get("/users/me").status_code == 401
    assert auth_client.get("/api/schema").status_code == 200


def test_openapi_schema_lists_the_password_change(api_client):
    response = api_client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    operation = response.json()["paths"]["/users/me/password"]["post"]
    assert set(operation["responses"]) == {"200", "400", "401", "429"}
    assert "ends every session" in operation["description"]


def test_api_docs_page_loads(api_client):
    assert api_client.get("/api/docs").status_code == 200


def test_unknown_route_answers_json_404(api_client):
    response = api_client.get("/users/nope")

    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "code": "not_found", "errors": {}}


def test_a_trailing_slash_is_not_redirected(api_client):
    assert api_client.post("/users/login/", {}, format="json").status_code == 404


def test_openapi_schema_generates_without_warnings():
    from io import StringIO

    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", stdout=StringIO())
