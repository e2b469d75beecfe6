"""Create the first admin login without prompting, or say how to reach the existing one."""

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from integrations.roles import ensure_roles


class Command(BaseCommand):
    help = "Create user 'admin' with a random password (printed once and kept in var/admin-password.txt)."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, **opts):
        ensure_roles()
        User = get_user_model()
        path = Path(settings.VAR_DIR) / "admin-password.txt"
        user = User.objects.filter(username=opts["username"]).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            user = User.objects.create_superuser(opts["username"], "", password)
            user.groups.add(Group.objects.get(name="SIEM admins"))
            path.write_text(password + "\n")
            path.chmod(0o600)
            self.stdout.write(f"siemhub: created admin login: user {user.username!r}, password {password!r} "
                              f"(also in {path})")
        elif path.exists():
            self.stdout.write(f"siemhub: admin login: user {user.username!r}, password in {path}")
        else:
            self.stdout.write(f"siemhub: admin user {user.username!r} exists; "
                              f"reset its password with: .venv/bin/python manage.py changepassword {user.username}")
