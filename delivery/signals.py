"""Engine signals. ``events_stored`` fires inside the producer's transaction; its receiver
kicks the senders of the touched integrations once that transaction commits."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.dispatch import Signal, receiver

logger = logging.getLogger(__name__)

events_stored = Signal()  # kwargs: integration_ids (list of str)


def kick(integration_ids: list[str]) -> None:
    """Enqueue a sender per integration. A broker outage is not an error: the events are in
    the database and the beat sweep delivers them once the broker is back."""
    from delivery.tasks import deliver_integration as deliver_integration_task

    for integration_id in integration_ids:
        try:
            deliver_integration_task.delay(integration_id)
        except Exception as exc:  # kombu raises many types when the broker is down
            logger.warning("could not enqueue delivery for integration %s (%s); the sweep will pick it up",
                           integration_id, type(exc).__name__)
            return


@receiver(events_stored)
def _kick_on_commit(sender: Any, integration_ids: list[str], **_: Any) -> None:
    if settings.SIEMHUB_KICK_ON_COMMIT and integration_ids:
        transaction.on_commit(lambda: kick(list(integration_ids)))
