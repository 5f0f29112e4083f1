"""Create (or keep up to date) the admin user from ADMIN_EMAIL / ADMIN_PASSWORD, non-interactively.

Run by every migration Job and by the local launcher, so it must be safe to run again and again:

- no account with that email: the admin is created;
- the admin already exists: its password is reset only if ``ADMIN_PASSWORD`` changed, and then
  every session of that admin ends (whoever held the old password is logged out);
- an account with that email exists but is *not* an admin: refused, unless
  ``--promote-existing`` (or ``ADMIN_PROMOTE_EXISTING=true``) asks for it. Registration does not
  verify email addresses, so whoever registered the address first could otherwise become the
  admin on the next upgrade. A promoted account's sessions end, so only the password set here
  opens it;
- a deactivated admin stays deactivated (with a warning) unless ``--reactivate`` asks.

Ending sessions: the admin site's Django sessions always, and ``settings.USER_SESSIONS_REVOKE``
(a dotted path to a function taking ``user=``) where a service issues its own tokens.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.module_loading import import_string

from ecommerce_common.settings import env


def user_sessions_end(user: Any) -> None:
    """End every session of ``user``: admin-site sessions, and the service's own tokens."""
    user_id = str(user.pk)
    stale = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now())
        if session.get_decoded().get("_auth_user_id") == user_id
    ]
    Session.objects.filter(pk__in=stale).delete()
    revoke = getattr(settings, "USER_SESSIONS_REVOKE", "")
    if revoke:
        import_string(revoke)(user=user)


def _is_admin(user: Any, field_names: set[str]) -> bool:
    role_ok = "role" not in field_names or user.role == "admin"
    return bool(user.is_superuser and user.is_staff and role_ok)


class Command(BaseCommand):
    help = "Create or update the admin user from ADMIN_EMAIL and ADMIN_PASSWORD."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--promote-existing",
            action="store_true",
            help="Make an existing non-admin account with ADMIN_EMAIL the admin (its sessions "
            "end). Also ADMIN_PROMOTE_EXISTING=true.",
        )
        parser.add_argument(
            "--reactivate",
            action="store_true",
            help="Re-activate the admin if it was deactivated.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        email = os.environ.get("ADMIN_EMAIL", "").strip()
        password = os.environ.get("ADMIN_PASSWORD", "")
        if not email or not password:
            raise CommandError("Set ADMIN_EMAIL and ADMIN_PASSWORD.")
        promote = options["promote_existing"] or env.bool("ADMIN_PROMOTE_EXISTING", default=False)
        model = get_user_model()
        field_names = {f.name for f in model._meta.get_fields()}
        # One run at a time (a migration Job, the launcher): no lock, which MongoDB lacks.
        user = model._default_manager.filter(**{model.USERNAME_FIELD: email}).first()
        if user is None:
            user = model(**{model.USERNAME_FIELD: email})
            self._make_admin(user, field_names)
            user.is_active = True
            user.set_password(password)
            user.save()
            self.stdout.write(self.style.SUCCESS(f"Created admin {email}."))
            return

        if not _is_admin(user, field_names):
            if not promote:
                raise CommandError(
                    f"{email} belongs to an existing account that is not an admin; refusing "
                    "to promote it (email addresses are not verified at registration, so it "
                    "may not be yours). Use another ADMIN_EMAIL, or pass --promote-existing "
                    "(ADMIN_PROMOTE_EXISTING=true) to make it the admin and end its sessions."
                )
            self._make_admin(user, field_names)
            user.set_password(password)
            user.save()
            user_sessions_end(user)
            self.stdout.write(
                self.style.WARNING(f"Promoted {email} to admin; its sessions were ended.")
            )
        elif not user.check_password(password):
            user.set_password(password)
            user.save()
            user_sessions_end(user)
            self.stdout.write(
                self.style.SUCCESS(f"Reset the password of admin {email}; its sessions ended.")
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"Admin {email} is up to date."))

        if not user.is_active:
            if options["reactivate"]:
                user.is_active = True
                user.save()
                self.stdout.write(self.style.WARNING(f"Re-activated admin {email}."))
            else:
                self.stderr.write(
                    self.style.WARNING(
                        f"Admin {email} is deactivated and stays so; pass --reactivate to "
                        "re-activate it."
                    )
                )

    @staticmethod
    def _make_admin(user: Any, field_names: set[str]) -> None:
        if "email" in field_names:
            user.email = user.email or getattr(user, user.USERNAME_FIELD)
        if "role" in field_names:
            user.role = "admin"
        user.is_staff = True
        user.is_superuser = True
