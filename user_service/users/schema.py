"""OpenAPI description of user_service's own access-token authentication (registered on import,
see apps.py); the internal-token scheme comes from ecommerce_common."""

from ecommerce_common.schema import UserTokenScheme


class AccessTokenScheme(UserTokenScheme):
    """The same Bearer-or-cookie scheme the other services verify, checked here locally."""

    target_class = "users.authentication.AccessTokenAuthentication"
