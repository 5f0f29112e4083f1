"""A real HTTP server standing in for user_service's /internal/verify, counting its calls."""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import cache


def make_token(*, exp: float, sub: str = "42") -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256'})}.{part({'exp': exp, 'sub': sub})}.signature"


class VerifyServer:
    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.valid_tokens: dict[str, dict] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.calls.append(dict(self.headers))
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                user = server.valid_tokens.get(token)
                body = json.dumps(user or {"message": "invalid"}).encode()
                self.send_response(200 if user else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def issue(self, *, ttl: float, role: str = "user") -> str:
        token = make_token(exp=time.time() + ttl)
        self.valid_tokens[token] = {"userId": "42", "email": "a@example.com", "role": role}
        return token


@pytest.fixture
def verify_server(settings):
    server = VerifyServer()
    settings.USER_SERVICE_URL = server.url
    from ecommerce_common import user_auth

    user_auth._user_service.cache_clear()
    cache.clear()
    yield server
    server.httpd.shutdown()
    user_auth._user_service.cache_clear()
