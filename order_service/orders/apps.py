from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "orders"

    def ready(self) -> None:
        from orders import schema  # noqa: F401 - registers the OpenAPI auth schemes
