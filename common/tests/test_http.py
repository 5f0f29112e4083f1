import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from ecommerce_common.http import ServiceCallError, ServiceClient
from ecommerce_common.request_id import clear_request_id, set_request_id


@pytest.fixture
def flaky_server():
    """Answers 503 to the first ``failures`` calls of each path, then 200 with the headers seen."""
    state = {"failures": 1, "calls": []}

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            state["calls"].append((self.command, dict(self.headers)))
            seen = sum(1 for c in state["calls"] if c[0] == self.command)
            status = 503 if seen <= state["failures"] else 200
            body = json.dumps({"headers": dict(self.headers)}).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    httpd.shutdown()


def test_get_is_retried_on_503_and_carries_token_and_request_id(flaky_server):
    url, state = flaky_server
    set_request_id("req-1")
    try:
        response = ServiceClient(url, internal_token="tok").get("/x")
    finally:
        clear_request_id()

    assert response.status_code == 200
    assert len(state["calls"]) == 2
    assert response.json()["headers"]["X-Internal-Token"] == "tok"
    assert response.json()["headers"]["X-Request-ID"] == "req-1"


def test_plain_post_is_not_retried(flaky_server):
    url, state = flaky_server

    with pytest.raises(ServiceCallError) as error:
        ServiceClient(url).post("/x", json={})

    assert error.value.status_code == 503
    assert len(state["calls"]) == 1


def test_post_marked_idempotent_is_retried(flaky_server):
    url, state = flaky_server

    response = ServiceClient(url).post("/x", json={}, idempotent=True)

    assert response.status_code == 200
    assert len(state["calls"]) == 2


def test_unreachable_service_raises_service_call_error():
    with pytest.raises(ServiceCallError):
        ServiceClient("http://127.0.0.1:9", retries=0, connect_timeout=0.5).get("/x")


def test_the_environment_is_read_when_the_client_is_made_not_on_every_call(
    flaky_server, monkeypatch
):
    url, state = flaky_server
    state["failures"] = 0
    client = ServiceClient(url)
    reads = []
    real = requests.utils.get_environ_proxies
    monkeypatch.setattr(
        requests.sessions, "get_environ_proxies", lambda *a, **k: reads.append(a) or real(*a, **k)
    )
    monkeypatch.setattr(
        requests.utils, "get_environ_proxies", lambda *a, **k: reads.append(a) or real(*a, **k)
    )

    for _ in range(3):
        assert client.get("/x").status_code == 200

    assert reads == []


def test_a_proxy_set_in_the_environment_is_still_used(flaky_server, monkeypatch):
    url, state = flaky_server
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")

    with pytest.raises(ServiceCallError):
        ServiceClient(url, retries=0, connect_timeout=0.5).get("/x")

    assert state["calls"] == []


def test_a_post_sends_its_json_with_the_client_headers_and_no_cookies(flaky_server):
    url, state = flaky_server
    state["failures"] = 0
    client = ServiceClient(url, internal_token="tok")
    client._idempotent.cookies.set("sessionid", "from-an-earlier-answer")

    response = client.post("/x", json={"orderId": "o-1"}, headers={"X-Extra": "1"}, idempotent=True)

    method, headers = state["calls"][-1]
    assert (method, response.status_code) == ("POST", 200)
    assert headers["Content-Type"] == "application/json"
    assert headers["Accept"] == "application/json"
    assert headers["X-Internal-Token"] == "tok"
    assert headers["X-Extra"] == "1"
    assert headers["User-Agent"].startswith("python-requests/")
    assert "Cookie" not in headers
    assert int(headers["Content-Length"]) == len(json.dumps({"orderId": "o-1"}))
