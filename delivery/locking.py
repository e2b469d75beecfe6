"""One sender per integration at a time.

PostgreSQL: the sender holds ``SELECT ... FOR UPDATE SKIP LOCKED`` on the integration's
:class:`Sender` row for the whole batch (claim, send, record), in one transaction. A second
worker skips the locked row and leaves. A killed worker's connection drops, PostgreSQL
releases the lock and rolls the batch back, so its events are still pending: a restart resends
at most that batch.

SQLite has no row locks and a transaction would lock the whole database while a request is in
flight, so there the sender takes a lease instead: a conditional UPDATE that succeeds only
when no live lease exists, released when the batch is recorded. A crashed holder's lease expires
after SIEMHUB_LEASE_S.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from delivery.models import Sender

_OWNER_PREFIX = f"{socket.gethostname()[:30]}:{os.getpid()}"


def sender_ensure(integration_id: str) -> None:
    Sender.objects.get_or_create(integration_id=integration_id)


@contextmanager
def sender_lock(integration_id: str) -> Iterator[Sender | None]:
    """Yield the locked Sender row, or None when another sender holds it."""
    if connection.vendor == "postgresql":
        with transaction.atomic():
            sender = Sender.objects.select_for_update(skip_locked=True).filter(integration_id=integration_id).first()
            yield sender
        return
    owner = f"{_OWNER_PREFIX}:{uuid.uuid4().hex[:8]}"
    now = timezone.now()
    taken = (
        Sender.objects.filter(integration_id=integration_id)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .update(lease_owner=owner, lease_expires_at=now + timedelta(seconds=settings.SIEMHUB_LEASE_S))
    )
    if not taken:
        yield None
        return
    try:
        yield Sender.objects.get(integration_id=integration_id)
    finally:
        Sender.objects.filter(integration_id=integration_id, lease_owner=owner).update(
            lease_owner="", lease_expires_at=None
        )

