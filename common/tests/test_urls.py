"""The routes every service mounts: the OpenAPI schema and its UIs are public documents."""

import pytest

SCHEMA_ROUTES = ["/api/schema", "/api/docs", "/api/redoc"]


@pytest.mark.parametrize("route", SCHEMA_ROUTES)
def test_schema_routes_are_public(client, route):
    assert client.get(route).status_code == 200


@pytest.mark.parametrize("route", SCHEMA_ROUTES)
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"X-Internal-Token": "a-wrong-internal-token"}, id="wrong-internal-token"),
        # USER_SERVICE_URL points nowhere: verifying this token would answer 503.
        pytest.param({"Authorization": "Bearer a.revoked.token"}, id="bad-user-token"),
    ],
)
def test_schema_routes_ignore_credentials_even_wrong_ones(client, route, headers):
    response = client.get(route, headers=headers)

    assert response.status_code == 200
