"""Create an API key for a user; prints the key alone on the last line (shown once)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from integrations.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key acting with USER's permissions. The key is printed once, on the last line."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="user name the key acts as")
        parser.add_argument("--name", default="", help="a label for the key")

    def handle(self, *args, **opts):
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: opts["user"]})
        except User.DoesNotExist:
            raise CommandError(f"no user named {opts['user']!r}") from None
        row, key = api_key_create(actor=None, user=user, name=opts["name"])
        self.stdout.write(f"Created API key {row.prefix} ({row.name or 'unnamed'}) for {user.get_username()}. "
                          "Store it now: it cannot be shown again.")
        self.stdout.write(key)
