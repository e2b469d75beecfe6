"""One line per integration: status, errors, pending, dead letters, last delivery."""

from django.core.management.base import BaseCommand
from django.db.models import Count

from delivery.models import DeadLetter
from delivery.selectors import pending_counts
from integrations.models import Integration


class Command(BaseCommand):
    help = "Print one status line per integration."

    def handle(self, *args, **opts):
        pending = pending_counts()
        dead = {str(r["integration_id"]): r["n"] for r in DeadLetter.objects.filter(replayed_at__isnull=True)
                .values("integration_id").annotate(n=Count("id"))}
        rows = list(Integration.objects.order_by("name"))
        if not rows:
            self.stdout.write("No integrations configured.")
        for i in rows:
            last = i.last_event_at.strftime("%Y-%m-%dT%H:%M:%SZ") if i.last_event_at else "never"
            line = (f"{i.name} [{i.integration_type}] {'enabled' if i.enabled else 'disabled'} "
                    f"status={i.status} errors={i.error_count} pending={pending.get(str(i.pk), 0)} "
                    f"dead_letters={dead.get(str(i.pk), 0)} last_delivery={last} id={i.pk}")
            if i.last_error:
                line += f" last_error={i.last_error[:120]!r}"
            self.stdout.write(line)
