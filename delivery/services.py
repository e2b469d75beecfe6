"""Engine workflows: accept events, route them, replay dead letters.

``event_emit`` is the one way events enter siemhub (the ingest API, ``delivery.emit``, the
audit trail and login signals all call it). It runs in the caller's transaction: events and
their Delivery rows commit together, and the ``events_stored`` signal kicks the senders only
after that commit, so a 202 answer means the events are durable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from delivery import outbox
from delivery.filters import event_matches
from delivery.normalize import normalize_many
from delivery.selectors import routing_table
from delivery.signals import events_stored


def event_emit(raw_events: Sequence[Any]) -> list[str]:
    """Validate, store and route events; returns their ids (duplicates included).

    Raises delivery.normalize.EventValidationError (nothing stored) when any event is invalid.
    """
    events = normalize_many(list(raw_events))
    if not events:
        return []
    now = timezone.now()
    with transaction.atomic():
        new_ids = outbox.events_insert(events, received_at=now)
        routes = routing_table()
        pairs: list[tuple[str, str]] = []
        touched: set[str] = set()
        for event in events:
            if event["id"] not in new_ids:
                continue  # a duplicate id: stored and routed the first time
            new_ids.discard(event["id"])  # the same id twice in one request: route once
            for integration_id, filters in routes:
                if event_matches(filters, event):
                    pairs.append((integration_id, event["id"]))
                    touched.add(integration_id)
        if pairs:
            outbox.deliveries_insert(pairs, created_at=now)
            events_stored.send(sender=None, integration_ids=sorted(touched))
    return [event["id"] for event in events]
