"""The errors user_service raises, rendered by ``ecommerce_common.errors.exception_handler``."""

from __future__ import annotations

from rest_framework import exceptions, status

from ecommerce_common.errors import ApiError


class EmailTaken(ApiError):
    default_code = "email_taken"
    default_detail = "A user with this email already exists."

    def __init__(self) -> None:
        super().__init__(errors={"email": [self.default_detail]})


class InvalidCredentials(ApiError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "invalid_credentials"
    default_detail = "Invalid email or password."


class InvalidToken(ApiError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "token_not_valid"
    default_detail = "Token is invalid or expired."


class InvalidRefreshToken(ApiError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "refresh_token_not_valid"
    default_detail = "Refresh token is invalid, expired or already used."

    def __init__(self, message: str | None = None, *, status_code: int | None = None) -> None:
        message = message or self.default_detail
        super().__init__(message, status_code=status_code, errors={"refresh": [message]})


class RefreshTokenNotOwned(ApiError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "refresh_token_not_owned"
    default_detail = "This refresh token does not belong to the authenticated user."

    def __init__(self) -> None:
        super().__init__(errors={"refresh": [self.default_detail]})


class WrongPassword(ApiError):
    default_code = "wrong_password"
    default_detail = "The current password is not correct."

    def __init__(self) -> None:
        super().__init__(errors={"currentPassword": [self.default_detail]})


class LoginThrottled(exceptions.Throttled):
    default_detail = "Too many failed login attempts."
    default_code = "throttled"


class PasswordChangeThrottled(exceptions.Throttled):
    default_detail = "Too many wrong current passwords."
    default_code = "throttled"
