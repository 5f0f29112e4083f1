from django.apps import AppConfig


class ProductsConfig(AppConfig):
    name = "products"
    default_auto_field = "django_mongodb_backend.fields.ObjectIdAutoField"
