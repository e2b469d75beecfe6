"""Reads shared by the engine, the API, the pages and the admin."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from delivery.models import DeadLetter, Delivery, DeliveryAttempt, Sender
from integrations.models import Integration


def routing_table() -> list[tuple[str, dict[str, Any]]]:
    """(integration id, filters) of every enabled integration."""
    return [(str(pk), filters or {}) for pk, filters in Integration.objects.filter(enabled=True).values_list("id", "filters")]


def pending_count(integration_id: Any) -> int:
    return Delivery.objects.filter(integration_id=integration_id).count()


def pending_counts() -> dict[str, int]:
    rows = Delivery.objects.values("integration_id").annotate(n=Count("id"))
    return {str(r["integration_id"]): r["n"] for r in rows}


def integrations_due(now: Any = None) -> list[str]:
    """Enabled integrations with pending events whose backoff is over and no live lease."""
    now = now or timezone.now()
    blocked = set(
        Sender.objects.filter(Q(backoff_until__gt=now) | Q(lease_expires_at__gt=now)).values_list(
            "integration_id", flat=True
        )
    )
    due = []
    for pk in Integration.objects.filter(enabled=True).values_list("id", flat=True):
        if pk not in blocked and Delivery.objects.filter(integration_id=pk).exists():
            due.append(str(pk))
    return due


def attempts_for_integration(integration_id: Any, *, limit: int = 100) -> QuerySet[DeliveryAttempt]:
    return DeliveryAttempt.objects.filter(integration_id=integration_id).order_by("-created_at", "-id")[:limit]


def dead_letters(*, integration_id: Any = None, include_replayed: bool = False) -> QuerySet[DeadLetter]:
    qs = DeadLetter.objects.select_related("event", "integration").order_by("-created_at", "-id")
    if integration_id:
        qs = qs.filter(integration_id=integration_id)
    if not include_replayed:
        qs = qs.filter(replayed_at__isnull=True)
    return qs


def attempt_histogram(integration_id: Any, *, hours: int = 24) -> list[dict[str, Any]]:
    """Per-hour delivered / failed / dead-lettered event counts for the last ``hours``."""
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(hours=hours - 1)
    buckets = {start + timedelta(hours=i): {"delivered": 0, "failed": 0, "dead": 0} for i in range(hours)}
    rows = DeliveryAttempt.objects.filter(integration_id=integration_id, created_at__gte=start, is_test=False)
    for created_at, outcome, events, delivered, dead in rows.values_list(
        "created_at", "outcome", "events", "delivered", "dead"
    ):
        bucket = buckets.get(created_at.replace(minute=0, second=0, microsecond=0))
        if bucket is None:
            continue
        bucket["delivered"] += delivered
        bucket["dead"] += dead
        if outcome == DeliveryAttempt.Outcome.RETRY:
            bucket["failed"] += events
    return [{"hour": hour, **counts} for hour, counts in sorted(buckets.items())]
