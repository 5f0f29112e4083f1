"""CPU cost of the metrics middleware per request (``ecommerce_common.metrics``).

Runs the middleware around a view that does nothing, in the mode gunicorn runs it
(multiprocess files, the metrics port set so every request reads its socket's port),
and compares the process CPU time with the bare view. Usage, from the repository root:

    .venv/bin/python bench/metrics_overhead.py [REQUESTS]
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import time

os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="metrics-overhead-")

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    METRICS_PORT=9100,
    INSTALLED_APPS=[],
)
django.setup()

from django.http import HttpResponse  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.urls import path, resolve  # noqa: E402

from ecommerce_common.metrics import MetricsMiddleware  # noqa: E402


def view(request, order_id):
    return HttpResponse(b"{}", content_type="application/json")


urlpatterns = [path("orders/<uuid:order_id>/pay", view)]


def main(requests: int) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    accepted, _ = listener.accept()
    factory = RequestFactory()
    request = factory.post("/orders/8a0c5a8e-7f63-4d0b-9d55-5d1f2f0f6c11/pay")
    request.META["gunicorn.socket"] = accepted

    def bare(req):
        req.resolver_match = resolve(req.path_info)
        return view(req, order_id=req.resolver_match.kwargs["order_id"])

    measured = MetricsMiddleware(bare)
    for handler in (bare, measured):  # warm up: children and files created
        handler(request)

    def cpu(handler) -> float:
        started = time.process_time()
        for _ in range(requests):
            handler(request)
        return (time.process_time() - started) / requests * 1e6

    bare_us = min(cpu(bare) for _ in range(3))
    measured_us = min(cpu(measured) for _ in range(3))
    print(f"bare view (with URL resolution): {bare_us:.1f} µs CPU per request")
    print(f"with MetricsMiddleware:          {measured_us:.1f} µs CPU per request")
    print(f"overhead:                        {measured_us - bare_us:.1f} µs CPU per request")
    client.close()
    accepted.close()
    listener.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
