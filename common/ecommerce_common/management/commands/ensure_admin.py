"""Create (or update) the admin user from ADMIN_EMAIL / ADMIN_PASSWORD, non-interactively."""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create or update the admin user from ADMIN_EMAIL and ADMIN_PASSWORD."

    def handle(self, *args: Any, **options: Any) -> None:
        email = os.environ.get("ADMIN_EMAIL", "").strip()
        password = os.environ.get("ADMIN_PASSWORD", "")
        if not email or not password:
            raise CommandError("Set ADMIN_EMAIL and ADMIN_PASSWORD.")
        model = get_user_model()
        field_names = {f.name for f in model._meta.get_fields()}
        lookup = {model.USERNAME_FIELD: email}
        user = model._default_manager.filter(**lookup).first()
        created = user is None
        if created:
            user = model(**lookup)
        if "email" in field_names:
            user.email = email
        if "role" in field_names:
            user.role = "admin"
        user.is_staff = True
        user.is_superuser = True
        user.is_active = True
        user.set_password(password)
        user.save()
        verb = "Created" if created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} admin {email}."))
