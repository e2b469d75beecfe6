"""The dead letter store: a DB table (replayable) mirrored as JSONL at SIEM_DEAD_LETTER_PATH.

Each JSONL line is ``{"timestamp", "connector", "integration_id", "error", "event"}``
(DESIGN.md §5.6). The file is appended after the database commit, under an exclusive lock,
so concurrent workers never interleave lines.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from delivery.formats.jsonenc import dumps
from delivery.formats.timefmt import iso_utc
from delivery.models import DeadLetter, Delivery
from delivery.signals import events_stored

logger = logging.getLogger(__name__)


def dead_letter_file_append(lines: Sequence[dict[str, Any]]) -> None:
    if not lines:
        return
    path = Path(settings.SIEM_DEAD_LETTER_PATH)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = b"".join(dumps(line) + b"\n" for line in lines)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, payload)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
    except OSError as exc:  # the DB row is the source of truth; the file is a mirror
        logger.error("could not append %d dead letters to %s: %s", len(lines), path, exc.strerror)


def dead_letters_record(
    *, integration_id: str, connector: str, entries: Sequence[tuple[dict[str, Any], str, int]]
) -> None:
    """Store dead letters (event dict, error, attempts) and append them to the JSONL file."""
    if not entries:
        return
    now = timezone.now()
    DeadLetter.objects.bulk_create(
        [
            DeadLetter(
                integration_id=integration_id,
                connector=connector,
                event_id=event["id"],
                error=error[:1000],
                attempts=attempts,
                created_at=now,
            )
            for event, error, attempts in entries
        ]
    )
    lines = [
        {"timestamp": iso_utc(now), "connector": connector, "integration_id": integration_id, "error": error, "event": event}
        for event, error, _ in entries
    ]
    transaction.on_commit(lambda: dead_letter_file_append(lines))


def dead_letter_replay(*, ids: Sequence[int] | None = None, integration_id: str | None = None) -> int:
    """Queue dead letters for delivery again; returns how many were queued.

    ``ids`` selects dead letters; else ``integration_id`` selects that integration's; else all.
    Only dead letters not yet replayed and whose integration still exists are queued.
    """
    qs = DeadLetter.objects.filter(replayed_at__isnull=True, integration__isnull=False)
    if ids is not None:
        qs = qs.filter(id__in=list(ids))
    elif integration_id:
        qs = qs.filter(integration_id=integration_id)
    now = timezone.now()
    with transaction.atomic():
        rows = list(qs.select_for_update().order_by("id").values_list("id", "integration_id", "event_id"))
        if not rows:
            return 0
        Delivery.objects.bulk_create(
            [Delivery(integration_id=iid, event_id=eid, attempts=0) for _, iid, eid in rows]
        )
        DeadLetter.objects.filter(id__in=[r[0] for r in rows]).update(
            replayed_at=now, replay_count=F("replay_count") + 1
        )
        events_stored.send(sender=None, integration_ids=sorted({str(r[1]) for r in rows}))
    return len(rows)
