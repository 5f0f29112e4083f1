"""Small real HTTP servers standing in for the internal routes of product_service and order_service.

They keep just enough state to behave like the real services (idempotent per order
id, or per event id and target status, 409 on what the real ones refuse), record every call,
and count the *effects* (state changes) separately, so a test can tell "called twice" from
"applied twice". They can be told to answer an error or to be slow for the next calls.

Statuses, transitions and error codes come from ``ecommerce_common.contracts``, as the real
services take them, so a stand-in cannot drift from the service it stands in for.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ecommerce_common.contracts import (
    EVENT_TARGETS,
    OrderStatus,
    OrderTransitionErrorCode,
    StockErrorCode,
    can_transition,
    illegal_transition_errors,
)

TOKEN = "test-internal-token"


@dataclass
class Call:
    method: str
    path: str
    body: Any
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


@dataclass
class Fault:
    path_contains: str
    times: int
    status: int | None = None
    body: dict | None = None
    delay: float = 0.0


class StandIn:
    """A threaded HTTP server; subclasses answer in ``answer(method, path, body)``."""

    name = "stand-in"

    def __init__(self, *, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                status, payload = server.dispatch(self.command, self.path, body, dict(self.headers))
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the caller gave up (timeout) or died

            do_GET = do_POST = do_PUT = _handle

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    # --- test controls ---------------------------------------------------------------------

    def fail(
        self, path_contains: str, *, status: int = 503, times: int = 1, body: dict | None = None
    ) -> None:
        """Answer ``status`` to the next ``times`` calls whose path contains ``path_contains``."""
        with self.lock:
            self.faults.append(
                Fault(path_contains, times, status=status, body=body or {"message": "stand-in"})
            )

    def slow(self, path_contains: str, *, seconds: float, times: int = 1) -> None:
        """Wait ``seconds`` before handling the next ``times`` matching calls (then answer normally)."""
        with self.lock:
            self.faults.append(Fault(path_contains, times, delay=seconds))

    def recover(self) -> None:
        with self.lock:
            self.faults.clear()

    def calls_to(self, path_contains: str) -> list[Call]:
        with self.lock:
            return [call for call in self.calls if path_contains in call.path]

    def wait_for_call(self, path_contains: str, *, count: int = 1, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while len(self.calls_to(path_contains)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: no call to {path_contains} within {timeout}s")
            time.sleep(0.05)

    def shutdown(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- request handling ------------------------------------------------------------------

    def _take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.path_contains in path and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def dispatch(
        self, method: str, path: str, body: Any, headers: dict[str, str]
    ) -> tuple[int, Any]:
        with self.lock:
            self.calls.append(Call(method, path, body, headers))
        if headers.get("X-Internal-Token") != self.token:
            return 401, {"message": "missing or bad internal token", "code": "not_authenticated"}
        fault = self._take_fault(path)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status is not None:
                return fault.status, fault.body
        with self.lock:
            return self.answer(method, path, body)

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        raise NotImplementedError


class ProductStandIn(StandIn):
    """``/internal/reservations/...`` of product_service."""

    name = "product_service"
    _ROUTE = re.compile(r"^/internal/reservations/(?P<order_id>[^/]+)/(?P<action>commit|release)$")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reservations: dict[str, str] = {}
        self.effects: list[tuple[str, str]] = []

    def reserve(self, order_id: str, status: str = "reserved") -> None:
        self.reservations[order_id] = status

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if method == "POST" and path == "/internal/reservations/expire":
            return 200, {"released": 0}
        if method == "POST" and path == "/internal/stock/repair":
            return 200, {"mended": 0}
        match = self._ROUTE.match(path)
        if method != "POST" or not match:
            return 404, {"message": "not found", "code": "not_found"}
        order_id, action = match["order_id"], match["action"]
        status = self.reservations.get(order_id)
        if status is None:
            return 404, {"message": "unknown reservation", "code": "not_found"}
        if action == "commit":
            if status == "released":
                return 409, {
                    "message": "reservation is not active",
                    "code": StockErrorCode.RESERVATION_NOT_ACTIVE,
                }
            if status == "reserved":
                self.reservations[order_id] = "committed"
                self.effects.append(("commit", order_id))
            return 200, {"orderId": order_id, "status": "committed"}
        if status != "released":
            self.reservations[order_id] = "released"
            self.effects.append(("release", order_id))
        return 200, {"orderId": order_id, "status": "released"}


class OrderStandIn(StandIn):
    """``/internal/orders/...`` and ``/internal/outbox/relay`` of order_service."""

    name = "order_service"
    _ROUTE = re.compile(r"^/internal/orders/(?P<order_id>[^/]+)/status$")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.orders: dict[str, str] = {}
        # (event id, target status) of every change applied: what order_service deduplicates by.
        self.applied_events: set[tuple[str, str]] = set()
        self.transitions: list[tuple[str, str, str]] = []

    def add(self, order_id: str, status: str = OrderStatus.PAID) -> None:
        self.orders[order_id] = status

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if method == "POST" and path == "/internal/outbox/relay":
            return 200, {"published": 0}
        if method == "POST" and path == "/internal/orders/expire":
            return 200, {"expired": 0}
        match = self._ROUTE.match(path)
        if method != "PUT" or not match:
            return 404, {"message": "not found", "code": "not_found"}
        order_id = match["order_id"]
        if order_id not in self.orders:
            return 404, {"message": "order not found", "code": "not_found"}
        if not isinstance(body, dict) or body.get("status") not in set(OrderStatus):
            return 400, {"message": "unknown status", "code": "invalid"}
        current, wanted, event_id = self.orders[order_id], body["status"], body.get("eventId")
        # As orders.services.order_apply_event: never to a status an event may not set, then
        # a repeat of the same event to the same status is a no-op, then the state machine.
        if wanted in EVENT_TARGETS and (event_id, wanted) in self.applied_events:
            return 200, {"id": order_id, "status": current}
        if wanted not in EVENT_TARGETS or not can_transition(current, wanted):
            return 409, {
                "message": f"An order cannot go from {current} to {wanted}.",
                "code": OrderTransitionErrorCode.ILLEGAL_TRANSITION,
                "errors": illegal_transition_errors(status=current, requested=wanted),
            }
        self.orders[order_id] = wanted
        self.applied_events.add((event_id, wanted))
        self.transitions.append((order_id, current, wanted))
        return 200, {"id": order_id, "status": wanted}
