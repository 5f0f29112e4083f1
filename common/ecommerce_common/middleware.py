"""Middleware shared by the services: request ids, the body size limit, static files."""

from __future__ import annotations

import os
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from whitenoise.middleware import WhiteNoiseMiddleware

from ecommerce_common.request_id import HEADER, clear_request_id, set_request_id


class RequestIdMiddleware:
    """Take the caller's ``X-Request-ID`` (or mint one) and echo it on the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = set_request_id(request.headers.get(HEADER))
        request.request_id = request_id
        try:
            response = self.get_response(request)
        finally:
            clear_request_id()
        response[HEADER] = request_id
        return response


class BodySizeLimitMiddleware:
    """Answer 413 from the declared length, before any of an oversized body is read."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = getattr(settings, "MAX_REQUEST_BODY_BYTES", 1024 * 1024)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse(
                {"message": "Invalid Content-Length header.", "code": "bad_request", "errors": {}},
                status=400,
            )
        if length > limit:
            return JsonResponse(
                {
                    "message": f"Request body too large (limit {limit} bytes).",
                    "code": "request_too_large",
                    "errors": {},
                },
                status=413,
            )
        return self.get_response(request)


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise for the admin's static files under gunicorn.

    Serves the files ``collectstatic`` gathered into ``STATIC_ROOT`` when there
    are any (the images), and otherwise straight from the installed apps (local
    runs and tests), so no collect step is needed to get a styled admin.
    """

    def add_files(self, root: str, prefix: str | None = None) -> None:
        if root and os.path.isdir(root):
            super().add_files(root, prefix)

    def __init__(self, get_response: Callable | None = None, settings=settings) -> None:
        super().__init__(get_response, settings)
        if not self.files and not self.use_finders:
            self.add_files_from_finders()
