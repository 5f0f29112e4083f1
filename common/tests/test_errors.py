import pytest

pytestmark = pytest.mark.django_db


def test_validation_error_has_shared_shape(client):
    response = client.post("/echo", {"name": "far too long"}, content_type="application/json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["message"].startswith("name:")
    assert "name" in body["errors"]


def test_malformed_json_is_400(client):
    response = client.post("/echo", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


def test_unsupported_media_type_is_415(client):
    response = client.post("/echo", "name=x", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_unknown_route_is_json_404(client):
    response = client.get("/nowhere")

    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "code": "not_found", "errors": {}}


def test_database_outage_is_503_with_retry_after_not_500(client, monkeypatch):
    from django.db import OperationalError

    from tests import urls

    def broken(serializer, *args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(urls.EchoSerializer, "is_valid", broken)

    response = client.post("/echo", {"name": "x"}, content_type="application/json")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["code"] == "service_unavailable"
