import pytest

pytestmark = pytest.mark.django_db


def test_json_nested_too_deep_to_decode_is_400_not_500(client, settings):
    settings.MAX_REQUEST_BODY_BYTES = 1_000_000
    body = "[" * 100_000 + "]" * 100_000

    response = client.post("/echo", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


@pytest.mark.parametrize(
    "body",
    [
        '{"name": "a\\ud800b"}',
        '{"name": "\\udfff"}',
        '{"\\ud800": "key"}',
        '[{"deep": ["ok", "\\udbff"]}]',
    ],
)
def test_json_with_a_lone_surrogate_is_400_not_500(client, body):
    """No UTF-8 text can carry a lone surrogate: refused before a view (or an error echoing it)."""
    response = client.post("/echo", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


def test_json_with_paired_surrogates_is_ordinary_text(client):
    response = client.post("/echo", '{"name": "\\ud83d\\ude00"}', content_type="application/json")

    assert response.status_code == 200
    assert response.json() == {"name": "\U0001f600"}
