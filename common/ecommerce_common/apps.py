"""Django app config, so services can use the shared management commands."""

from django.apps import AppConfig


class EcommerceCommonConfig(AppConfig):
    name = "ecommerce_common"
    label = "ecommerce_common"
    verbose_name = "ecommerce common"

    def ready(self) -> None:
        from django.conf import settings

        from ecommerce_common import schema  # noqa: F401 - registers the OpenAPI auth schemes
        from ecommerce_common.tracing import setup_tracing

        # Opt-in: does nothing (imports nothing) unless an OTEL exporter is configured.
        setup_tracing(service_name=getattr(settings, "SERVICE_NAME", self.name))
