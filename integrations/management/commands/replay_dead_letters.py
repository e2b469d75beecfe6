"""Queue dead letters for delivery again: by id, by integration, or all."""

from django.core.management.base import BaseCommand

from integrations.management.commands.send_test_event import find_integration
from integrations.services import dead_letters_replay


class Command(BaseCommand):
    help = "Replay dead letters (all, --integration ID|NAME, or --id N ...)."

    def add_arguments(self, parser):
        parser.add_argument("--integration", help="only this integration's dead letters (id or name)")
        parser.add_argument("--id", type=int, action="append", dest="ids", help="a dead letter id (repeatable)")

    def handle(self, *args, **opts):
        integration_id = str(find_integration(opts["integration"]).pk) if opts["integration"] else None
        count = dead_letters_replay(actor=None, ids=opts["ids"], integration_id=integration_id)
        self.stdout.write(f"Queued {count} dead letter(s) for delivery.")
