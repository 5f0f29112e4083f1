"""Request validation and response shapes of the /users API (camelCase, as the old clients use)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from users.models import User

NAME_MAX_LENGTH = User._meta.get_field("first_name").max_length
EMAIL_MAX_LENGTH = User._meta.get_field("email").max_length
PASSWORD_MAX_LENGTH = 128


class StrictCharField(serializers.CharField):
    """A string and only a string: numbers and booleans are type errors, not coerced."""

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictEmailField(serializers.EmailField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data).strip().lower()


class StrictInputSerializer(serializers.Serializer):
    """Rejects fields it does not know, so ``{"role": "admin"}`` is an error, not ignored."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, Mapping) else []
        errors = {
            name: [ErrorDetail("This field cannot be set.", code="unknown_field")]
            for name in unknown
        }
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if errors and isinstance(exc.detail, dict):
                exc.detail.update(errors)
            raise
        if errors:
            raise serializers.ValidationError(errors)
        return value


def _name_field(*, required: bool = True) -> StrictCharField:
    return StrictCharField(max_length=NAME_MAX_LENGTH, required=required)


class UserOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    firstName = serializers.CharField(source="first_name")
    lastName = serializers.CharField(source="last_name")
    email = serializers.EmailField()
    role = serializers.CharField()
    createdAt = serializers.DateTimeField(source="created_at")


class RegisterInputSerializer(StrictInputSerializer):
    firstName = _name_field()
    lastName = _name_field()
    email = StrictEmailField(max_length=EMAIL_MAX_LENGTH)
    password = StrictCharField(max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False)


class RegisterOutputSerializer(serializers.Serializer):
    message = serializers.CharField()
    user = UserOutputSerializer()


class LoginInputSerializer(StrictInputSerializer):
    email = StrictCharField(max_length=EMAIL_MAX_LENGTH)
    password = StrictCharField(max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False)


class LoginOutputSerializer(serializers.Serializer):
    message = serializers.CharField()
    token = serializers.CharField(
        help_text="The access token (also set as the userAuthToken cookie)."
    )
    refresh = serializers.CharField()


class RefreshInputSerializer(StrictInputSerializer):
    refresh = StrictCharField(max_length=4096)


class TokenPairOutputSerializer(serializers.Serializer):
    message = serializers.CharField()
    token = serializers.CharField()
    refresh = serializers.CharField()


class PasswordChangeInputSerializer(StrictInputSerializer):
    currentPassword = StrictCharField(max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False)
    newPassword = StrictCharField(max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False)


class LogoutInputSerializer(StrictInputSerializer):
    refresh = StrictCharField(max_length=4096, required=False)


class MessageOutputSerializer(serializers.Serializer):
    message = serializers.CharField()


class UserUpdateInputSerializer(StrictInputSerializer):
    firstName = _name_field(required=False)
    lastName = _name_field(required=False)
    email = StrictEmailField(max_length=EMAIL_MAX_LENGTH, required=False)


class VerifyOutputSerializer(serializers.Serializer):
    userId = serializers.CharField()
    email = serializers.EmailField()
    role = serializers.CharField()


class ErrorOutputSerializer(serializers.Serializer):
    """The shared error shape (documentation only; ecommerce_common.errors renders it)."""

    message = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.DictField(help_text="Field errors keyed by the request's field names.")
