import pytest

pytestmark = pytest.mark.django_db


def test_request_id_is_taken_from_caller_and_echoed(client):
    response = client.get("/health", headers={"X-Request-ID": "abc-123"})

    assert response["X-Request-ID"] == "abc-123"


def test_request_id_is_minted_when_missing_or_unsafe(client):
    response = client.get("/health", headers={"X-Request-ID": "bad id\nwith newline"})

    assert len(response["X-Request-ID"]) == 32
    assert "\n" not in response["X-Request-ID"]


def test_oversized_body_is_413_before_it_is_read(client):
    response = client.post("/echo", "x" * 2000, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_health_does_no_io_and_ready_checks_database(client, django_assert_num_queries):
    # Every service's /health and /ready are this code; each service tests only what its ready
    # check adds (its store, whether the broker is required, order_service's outbox).
    with django_assert_num_queries(0):
        assert client.get("/health").json() == {"status": "ok", "service": "common-tests"}
    with django_assert_num_queries(1):
        assert client.get("/ready").json() == {"status": "ready"}


def test_admin_static_files_are_served_without_collectstatic(client):
    response = client.get("/static/admin/css/base.css")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
