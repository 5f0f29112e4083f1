"""A real HTTP stand-in for product_service's reservation routes (CONVENTIONS.md), in memory.

order_service's unit tests reserve stock through it with the real HTTP client; the real
product_service is exercised by the cross-service tests at the repository root.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ecommerce_common.contracts import StockErrorCode


@dataclass
class Product:
    title: str
    price: Decimal
    available: int


@dataclass
class Reservation:
    order_id: str
    items: list[dict]
    status: str = "reserved"
    body: dict = field(default_factory=dict)


class ProductServer:
    def __init__(self, *, internal_token: str) -> None:
        self.internal_token = internal_token
        self.products: dict[str, Product] = {}
        self.reservations: dict[str, Reservation] = {}
        self.requests: list[tuple[str, str, dict | None]] = []
        self.fail_with: int | None = None  # answer every call with this status (e.g. 500)
        self.delay = 0.0  # seconds to wait before handling each call (a slow product_service)
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null") if length else None
                server.requests.append(("POST", self.path, body))
                if self.headers.get("X-Internal-Token") != server.internal_token:
                    return self.answer(401, {"code": "authentication_failed", "message": "no"})
                time.sleep(server.delay)
                if server.fail_with is not None:
                    return self.answer(server.fail_with, {"code": "error", "message": "failing"})
                with server.lock:
                    status, payload = server.route(self.path, body)
                self.answer(status, payload)

            def answer(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def add_product(
        self, product_id: str, *, title: str = "Widget", price: str = "10.00", quantity: int = 10
    ) -> str:
        self.products[product_id] = Product(title=title, price=Decimal(price), available=quantity)
        return product_id

    def available(self, product_id: str) -> int:
        return self.products[product_id].available

    def reserve_calls(self) -> list[dict]:
        return [body for method, path, body in self.requests if path == "/internal/reservations"]

    def route(self, path: str, body: dict | None) -> tuple[int, dict]:
        if path == "/internal/reservations":
            return self.reserve(body or {})
        match = re.fullmatch(r"/internal/reservations/([^/]+)/(commit|release)", path)
        if match:
            return self.finish(match.group(1), match.group(2))
        return 404, {"code": "not_found", "message": "Not found."}

    def reserve(self, body: dict) -> tuple[int, dict]:
        order_id = body.get("orderId")
        if order_id in self.reservations:
            return 200, self.reservations[order_id].body
        items = body.get("items") or []
        unknown = {i["productId"]: "unknown" for i in items if i["productId"] not in self.products}
        if unknown:
            return 400, {
                "code": StockErrorCode.UNKNOWN_PRODUCT,
                "message": "Unknown product.",
                "errors": unknown,
            }
        short = {
            i["productId"]: f"only {self.products[i['productId']].available} available"
            for i in items
            if self.products[i["productId"]].available < i["quantity"]
        }
        if short:
            return 409, {
                "code": StockErrorCode.INSUFFICIENT_STOCK,
                "message": "not sufficient inventory",
                "errors": short,
            }
        lines = []
        for item in items:
            product = self.products[item["productId"]]
            product.available -= item["quantity"]
            lines.append(
                {
                    "productId": item["productId"],
                    "title": product.title,
                    "unitPrice": float(product.price),
                    "quantity": item["quantity"],
                }
            )
        answer = {
            "orderId": order_id,
            "status": "reserved",
            "expiresAt": "2030-01-01T00:00:00+00:00",
            "items": lines,
        }
        self.reservations[order_id] = Reservation(order_id=order_id, items=items, body=answer)
        return 201, answer

    def finish(self, order_id: str, action: str) -> tuple[int, dict]:
        reservation = self.reservations.get(order_id)
        if reservation is None:
            return 404, {"code": "not_found", "message": "Unknown reservation."}
        if action == "release" and reservation.status != "released":
            for item in reservation.items:
                self.products[item["productId"]].available += item["quantity"]
            reservation.status = "released"
        elif action == "commit" and reservation.status == "reserved":
            reservation.status = "committed"
        return 200, {
            "orderId": order_id,
            "status": f"{action}d" if action == "release" else "committed",
        }

    def shutdown(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
