"""Send a real test event through one integration (by id or name) and print the outcome."""

from django.core.management.base import BaseCommand, CommandError

from integrations.models import Integration
from integrations.services import integration_test


def find_integration(ref: str) -> Integration:
    matches = Integration.objects.filter(name=ref)
    try:
        import uuid

        matches = Integration.objects.filter(pk=uuid.UUID(ref)) | matches
    except ValueError:
        pass
    found = list(matches[:2])
    if not found:
        raise CommandError(f"no integration with id or name {ref!r}")
    if len(found) > 1:
        raise CommandError(f"several integrations are named {ref!r}; use the id")
    return found[0]


class Command(BaseCommand):
    help = "Send a test event through INTEGRATION (id or name) now."

    def add_arguments(self, parser):
        parser.add_argument("integration")

    def handle(self, *args, **opts):
        integration = find_integration(opts["integration"])
        ok, message = integration_test(actor=None, integration=integration)
        if not ok:
            raise CommandError(f"{integration.name}: FAILED: {message}")
        self.stdout.write(f"{integration.name}: OK: {message}")
