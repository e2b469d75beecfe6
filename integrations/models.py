"""Configuration side: integrations (one per SIEM destination), the audit trail, API keys."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from django.conf import settings
from django.db import models
from encrypted_model_fields.fields import EncryptedTextField


class IntegrationStatus(models.TextChoices):
    SUCCESS = "success", "Success"
    ERROR = "error", "Error"
    NOT_YET_INVOKED = "not_yet_invoked", "Not yet invoked"


class Integration(models.Model):
    """One configured SIEM destination.

    ``config`` holds non-secret settings only. Secrets (the keys a connector lists in
    ``secret_fields``) live in ``secrets``, a JSON object encrypted at rest with
    FIELD_ENCRYPTION_KEY; they are write-only: no API, page, log or audit entry shows them.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    integration_type = models.CharField(max_length=32, db_index=True)
    name = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True)
    config = models.JSONField(default=dict, blank=True)
    secrets = EncryptedTextField(blank=True, default="")
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=20, choices=IntegrationStatus.choices, default=IntegrationStatus.NOT_YET_INVOKED
    )
    error_count = models.PositiveIntegerField(default=0, help_text="Consecutive failed deliveries.")
    last_error = models.TextField(blank=True, default="")
    last_event_at = models.DateTimeField(null=True, blank=True, help_text="Last successful delivery.")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        permissions = [("test_integration", "Can send a test event through an integration")]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<Integration {self.id} {self.integration_type} {self.name!r}>"

    def get_secrets(self) -> dict[str, Any]:
        """Decrypted secrets as a dict (empty when none are set)."""
        if not self.secrets:
            return {}
        value = orjson.loads(self.secrets)
        return value if isinstance(value, dict) else {}

    def set_secrets(self, values: dict[str, Any]) -> None:
        clean = {k: v for k, v in values.items() if v not in (None, "", {}, [])}
        self.secrets = orjson.dumps(clean).decode() if clean else ""


class EncryptionCanary(models.Model):
    """A known value encrypted with FIELD_ENCRYPTION_KEY: lets start-up prove the key is right."""

    value = EncryptedTextField()


class AuditEntry(models.Model):
    """One configuration change: who, when, what, and the change with secrets redacted."""

    action = models.CharField(max_length=64, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True, default="")
    target_type = models.CharField(max_length=64, blank=True, default="")
    target_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    target_name = models.CharField(max_length=200, blank=True, default="")
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.action} {self.target_name} by {self.actor_name or 'system'}"


class ApiKey(models.Model):
    """An API key acting with its user's permissions. Only a SHA-256 of the key is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True, default="")
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name or 'key'} ({self.prefix}…) for {self.user}"
