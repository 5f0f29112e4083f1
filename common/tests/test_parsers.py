import pytest

pytestmark = pytest.mark.django_db


def test_json_nested_too_deep_to_decode_is_400_not_500(client, settings):
    settings.MAX_REQUEST_BODY_BYTES = 1_000_000
    body = "[" * 100_000 + "]" * 100_000

    response = client.post("/echo", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"
