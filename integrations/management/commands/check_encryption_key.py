"""Fail unless FIELD_ENCRYPTION_KEY is set, well-formed, and decrypts the stored secrets."""

from django.core.management.base import BaseCommand, CommandError

from siemhub.startup import EncryptionKeyError, verify_encryption_key


class Command(BaseCommand):
    help = "Check FIELD_ENCRYPTION_KEY against the database (run at start-up)."

    def handle(self, *args, **opts):
        try:
            verify_encryption_key()
        except EncryptionKeyError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write("FIELD_ENCRYPTION_KEY ok")
