"""The delivery engine's tables: the outbox, pending deliveries, senders, attempts, dead letters.

Flow: an accepted :class:`Event` is stored once, and one :class:`Delivery` row per matching
integration is written in the same transaction. A sender drains an integration's Delivery rows
oldest first (one sender per integration: :class:`Sender` is the lock), records a
:class:`DeliveryAttempt` per request and deletes the Delivery rows it delivered or dead-lettered.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from django.db import models

from integrations.models import Integration


class Event(models.Model):
    """The outbox: one canonical event, stored in the producer's transaction.

    ``payload`` is the canonical event as compact JSON text (not jsonb): it is written and read
    whole, and text is several times cheaper to insert than jsonb at ingest rates.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    type = models.CharField(max_length=128)
    severity = models.CharField(max_length=16, default="info")
    timestamp = models.DateTimeField()
    org_id = models.CharField(max_length=128, blank=True, default="")
    payload = models.TextField()
    received_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"

    def as_dict(self) -> dict[str, Any]:
        return orjson.loads(self.payload)


class Delivery(models.Model):
    """An event waiting to reach one integration. Deleted once delivered or dead-lettered."""

    id = models.BigAutoField(primary_key=True)
    # No single-column index on integration: the (integration, id) index below serves every
    # lookup by integration, and each index costs a write per event on the ingest path.
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+", db_index=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["integration", "id"], name="delivery_integration_order")]
        verbose_name_plural = "deliveries"


class Sender(models.Model):
    """Per-integration sender state: the one-sender lock, backoff and running totals."""

    integration = models.OneToOneField(
        Integration, primary_key=True, on_delete=models.CASCADE, related_name="sender"
    )
    lease_owner = models.CharField(max_length=64, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    backoff_until = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    delivered_total = models.PositiveBigIntegerField(default=0)
    failed_total = models.PositiveBigIntegerField(default=0)
    dead_total = models.PositiveBigIntegerField(default=0)
    requests_total = models.PositiveBigIntegerField(default=0)


class DeliveryAttempt(models.Model):
    """One request to a destination: when, how long, what came back, how much it carried."""

    class Outcome(models.TextChoices):
        OK = "ok", "Delivered"
        RETRY = "retry", "Retry later"
        DEAD = "dead", "Dead-lettered"
        PARTIAL = "partial", "Partially delivered"

    id = models.BigAutoField(primary_key=True)
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="attempts")
    created_at = models.DateTimeField(db_index=True)
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    events = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)
    dead = models.PositiveIntegerField(default=0)
    bytes = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    is_test = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["integration", "-created_at"], name="attempt_integration_time")]


class DeadLetter(models.Model):
    """An event that could not be delivered to an integration; replayable."""

    id = models.BigAutoField(primary_key=True)
    integration = models.ForeignKey(
        Integration, null=True, on_delete=models.SET_NULL, related_name="dead_letters"
    )
    connector = models.CharField(max_length=32)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(db_index=True)
    replayed_at = models.DateTimeField(null=True, blank=True)
    replay_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
