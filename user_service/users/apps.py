from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "users"
    default_auto_field = "django.db.models.BigAutoField"
