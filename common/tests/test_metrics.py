import subprocess
import sys

import pytest
from django.test import Client, override_settings
from prometheus_client import REGISTRY

from ecommerce_common.metrics import registry
from ecommerce_common.metrics_files import clean_multiprocess_dir

pytestmark = pytest.mark.django_db


def requests_counted(route: str, method: str = "GET", status: str = "200") -> float:
    labels = {"route": route, "method": method, "status": status}
    return REGISTRY.get_sample_value("http_requests_total", labels) or 0.0


def latency_count(route: str, method: str = "GET") -> float:
    labels = {"route": route, "method": method}
    return REGISTRY.get_sample_value("http_request_duration_seconds_count", labels) or 0.0


class FakeGunicornSocket:
    """The client socket gunicorn puts in the WSGI environ; only its local port matters."""

    def __init__(self, port: int) -> None:
        self.port = port

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)


def test_requests_are_counted_by_url_pattern_method_and_status_not_raw_path(client):
    before = requests_counted("items/<int:item_id>")
    timed_before = latency_count("items/<int:item_id>")
    refused_before = requests_counted("echo", "POST", "400")

    client.get("/items/1")
    client.get("/items/2")
    client.post("/echo", {"name": "far too long"}, content_type="application/json")

    assert requests_counted("items/<int:item_id>") == before + 2
    assert latency_count("items/<int:item_id>") == timed_before + 2
    assert requests_counted("echo", "POST", "400") == refused_before + 1
    assert (
        REGISTRY.get_sample_value(
            "http_requests_total", {"route": "items/1", "method": "GET", "status": "200"}
        )
        is None
    )


def test_unknown_paths_and_methods_share_one_label_each(client):
    before = requests_counted("<unresolved>", "other", "404")

    client.generic("BREW", "/no/such/path/123")

    assert requests_counted("<unresolved>", "other", "404") == before + 1


def test_metrics_endpoint_serves_the_prometheus_text_format(client):
    client.get("/items/7")

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    body = response.content.decode()
    assert 'http_requests_total{method="GET",route="items/<int:item_id>",status="200"}' in body


@override_settings(METRICS_PORT=9911)
def test_with_a_metrics_port_metrics_answer_there_only_and_that_port_serves_nothing_else():
    client = Client()
    on_service_port = {"gunicorn.socket": FakeGunicornSocket(8001)}
    on_metrics_port = {"gunicorn.socket": FakeGunicornSocket(9911)}

    refused = client.get("/metrics", **on_service_port)
    assert refused.status_code == 404
    assert refused.json() == {"message": "Not found.", "code": "not_found", "errors": {}}
    assert client.get("/metrics", **on_metrics_port).status_code == 200
    assert client.get("/items/3", **on_metrics_port).status_code == 404
    assert client.get("/items/3", **on_service_port).status_code == 200
    # A Host header naming the metrics port changes nothing: the socket decides.
    assert client.get("/metrics", HTTP_HOST="localhost:9911", **on_service_port).status_code == 404


def test_a_scrape_adds_up_the_values_of_every_process_in_multiprocess_mode(tmp_path, monkeypatch):
    folder = tmp_path / "prometheus"
    folder.mkdir()
    (folder / "counter_99999.db").write_bytes(b"left over by an earlier run")
    clean_multiprocess_dir(str(folder))
    assert list(folder.iterdir()) == []
    increment = (
        "from ecommerce_common.metrics import HTTP_REQUESTS;"
        "HTTP_REQUESTS.labels('orders', 'POST', '201').inc(3)"
    )
    for _ in range(2):
        subprocess.run(
            [sys.executable, "-c", increment],
            env={"PROMETHEUS_MULTIPROC_DIR": str(folder), "PATH": "/usr/bin:/bin"},
            check=True,
        )
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))

    value = registry().get_sample_value(
        "http_requests_total", {"route": "orders", "method": "POST", "status": "201"}
    )

    assert value == 6


def test_verify_cache_counts_a_miss_then_a_hit(verify_server):
    from ecommerce_common.user_auth import verify_token

    def counted(result: str) -> float:
        return REGISTRY.get_sample_value("verify_cache_requests_total", {"result": result}) or 0

    hits, misses = counted("hit"), counted("miss")
    token = verify_server.issue(ttl=300)

    verify_token(token)
    verify_token(token)

    assert (counted("hit"), counted("miss")) == (hits + 1, misses + 1)
