"""One error format for every service: ``{"message", "code", "errors"}``.

``exception_handler`` renders DRF and Django exceptions that way; services
raise ``ApiError`` subclasses (or ``ApiError(...)`` directly) for their own
conditions. ``handler400``/``404``/``500`` make Django's own error pages JSON
too, so no route, not even an unknown one, answers HTML.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ApiError(exceptions.APIException):
    """An error with an explicit status, machine-readable code and message."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "bad_request"
    default_detail = "Bad request."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status_code: int | None = None,
        errors: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail=message or self.default_detail, code=code or self.default_code)
        if status_code is not None:
            self.status_code = status_code
        self.code = code or self.default_code
        self.errors = errors or {}


class Conflict(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The request conflicts with the current state."


class ServiceUnavailable(ApiError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "service_unavailable"
    default_detail = "A service this request depends on is unavailable; try again."


def _store_unavailable_errors() -> tuple[type[Exception], ...]:
    """Errors meaning a store is unreachable (not a bug): answered 503, to be retried."""
    errors: list[type[Exception]] = [OperationalError, InterfaceError]
    try:
        from pymongo.errors import AutoReconnect, ConnectionFailure, ServerSelectionTimeoutError
    except ImportError:  # a service without MongoDB
        pass
    else:
        errors += [AutoReconnect, ConnectionFailure, ServerSelectionTimeoutError]
    return tuple(errors)


STORE_UNAVAILABLE = _store_unavailable_errors()


def error_body(message: str, code: str, errors: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"message": message, "code": code, "errors": errors or {}}


def _flatten_message(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _flatten_message(detail[0])
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        inner = _flatten_message(value)
        return inner if key == "non_field_errors" else f"{key}: {inner}"
    return str(detail)


_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "malformed_request",
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF ``EXCEPTION_HANDLER``: every handled error in the shared JSON shape."""
    # Imported here: rest_framework.views reads the authentication classes at import time,
    # and those import this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, STORE_UNAVAILABLE):
        logger.warning("store unavailable", extra={"error": f"{exc.__class__.__name__}: {exc}"})
        exc = ServiceUnavailable("The service's store is unavailable; try again shortly.")
    elif isinstance(exc, RequestDataTooBig):
        exc = ApiError("Request body too large.", code="request_too_large", status_code=413)
    elif isinstance(exc, ValidationError):
        exc = exceptions.ValidationError(
            detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ServiceUnavailable):
        response["Retry-After"] = "5"

    if isinstance(exc, ApiError):
        body = error_body(str(exc.detail), exc.code, exc.errors)
    elif isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = error_body(_flatten_message(detail), "invalid", detail)
    else:
        code = next((c for cls, c in _CODES.items() if isinstance(exc, cls)), None)
        detail_code = getattr(exc, "get_codes", lambda: None)()
        body = error_body(
            _flatten_message(exc.detail),
            code or (detail_code if isinstance(detail_code, str) else "error"),
        )
    response.data = body
    return response


def _json_error(status_code: int, message: str, code: str) -> JsonResponse:
    return JsonResponse(error_body(message, code), status=status_code)


def handler400(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    if isinstance(exception, RequestDataTooBig):
        return _json_error(413, "Request body too large.", "request_too_large")
    return _json_error(400, "Bad request.", "bad_request")


def handler403(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_error(
        403, "You do not have permission to perform this action.", "permission_denied"
    )


def handler404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_error(404, "Not found.", "not_found")


def handler500(request: HttpRequest) -> JsonResponse:
    return _json_error(500, "Internal server error.", "server_error")
