"""The DRF pieces every service's API is built from, so their answers and inputs agree: the
error answer and its schema, strict integer input, and the base of ``/internal`` views."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers
from rest_framework.views import APIView

from ecommerce_common.internal_auth import InternalTokenAuthentication, IsInternalService


class ErrorSerializer(serializers.Serializer):
    """Every error answer: ``{message, code, errors}`` (docs/ARCHITECTURE.md §3)."""

    message = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.DictField(help_text="Field errors keyed by the request's field names.")


def errors(*codes: int) -> dict[int, type[ErrorSerializer]]:
    """The error answers (``{message, code, errors}``) an operation documents besides success.

    401 is there wherever a token is read: a bad or revoked one is refused even on public reads.
    """
    return dict.fromkeys(codes, ErrorSerializer)


class StrictIntegerField(serializers.IntegerField):
    """An integer given as a JSON integer, or as a string of up to 12 digits (as old form
    clients send): never a fraction, a float or a boolean."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, str) and re.fullmatch(r"-?\d{1,12}", data.strip()):
            data = int(data.strip())
        if not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class InternalView(APIView):
    """An ``/internal`` route: only a caller with the internal token (``X-Internal-Token``)."""

    authentication_classes = [InternalTokenAuthentication]
    permission_classes = [IsInternalService]
