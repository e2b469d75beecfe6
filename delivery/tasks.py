"""Celery tasks: thin interfaces taking ids only (never config or secrets)."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(name="delivery.deliver_integration", acks_late=True, ignore_result=True,
             soft_time_limit=900, time_limit=960)
def deliver_integration(integration_id: str) -> int:
    """Drain one integration's pending events. Idempotent: state lives in the database."""
    from delivery.sender import integration_drain

    return integration_drain(str(integration_id))


@shared_task(name="delivery.sweep_pending", acks_late=True, ignore_result=True)
def sweep_pending() -> int:
    """Re-kick every integration with due work, so a lost kick only delays delivery."""
    from delivery.selectors import integrations_due
    from delivery.signals import kick

    due = integrations_due()
    if due:
        kick(due)
    return len(due)


@shared_task(name="delivery.purge_old", acks_late=True, ignore_result=True)
def purge_old() -> int:
    """Delete delivered events and old attempt rows past their retention."""
    from delivery.models import DeadLetter, Delivery, DeliveryAttempt, Event

    now = timezone.now()
    DeliveryAttempt.objects.filter(
        created_at__lt=now - timedelta(days=settings.SIEMHUB_ATTEMPT_RETENTION_DAYS)
    ).delete()
    cutoff = now - timedelta(days=settings.SIEMHUB_EVENT_RETENTION_DAYS)
    old = Event.objects.filter(received_at__lt=cutoff).filter(
        ~Exists(Delivery.objects.filter(event_id=OuterRef("pk"))),
        ~Exists(DeadLetter.objects.filter(event_id=OuterRef("pk"))),
    )
    deleted, _ = old.delete()
    return deleted
