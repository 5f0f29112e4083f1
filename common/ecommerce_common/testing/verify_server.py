"""A real HTTP server answering ``/internal/verify`` for tokens it issued.

Unit tests of product_service and order_service authenticate through it, so
the real verify client (and its cache) runs without a user_service process.
Cross-service tests use the real user_service instead.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def make_token(*, exp: float, sub: str = "42") -> str:
    """A JWT-shaped token (unsigned: only this server accepts it)."""

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256'})}.{part({'exp': exp, 'sub': sub, 'jti': uuid.uuid4().hex})}.sig"


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

    def issue(
        self, *, user_id: str = "42", role: str = "user", email: str | None = None, ttl: float = 300
    ) -> str:
        """A token this server vouches for, as ``user_id`` with ``role``."""
        token = make_token(exp=time.time() + ttl, sub=user_id)
        self.valid_tokens[token] = {
            "userId": user_id,
            "email": email or f"user{user_id}@example.com",
            "role": role,
        }
        return token

    def revoke(self, token: str) -> None:
        self.valid_tokens.pop(token, None)

    def shutdown(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
