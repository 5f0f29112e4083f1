"""Django app config, so services can use the shared management commands."""

from django.apps import AppConfig


class EcommerceCommonConfig(AppConfig):
    name = "ecommerce_common"
    label = "ecommerce_common"
    verbose_name = "ecommerce common"

    def ready(self) -> None:
        from ecommerce_common import schema  # noqa: F401 - registers the OpenAPI auth schemes
