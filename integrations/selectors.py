"""Reads shared by the REST API, the pages and the admin."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from delivery.connectors import CONNECTORS
from integrations.models import AuditEntry, Integration


def integration_list() -> QuerySet[Integration]:
    return Integration.objects.order_by("name", "created_at")


def integration_public(integration: Integration, *, pending: int | None = None) -> dict[str, Any]:
    """The integration as the API shows it: no secret, ``has_<secret>`` flags instead."""
    connector = CONNECTORS.get(integration.integration_type)
    stored = integration.get_secrets()
    secret_fields = connector.secret_fields if connector else tuple(stored)
    data: dict[str, Any] = {
        "id": str(integration.pk),
        "integration_type": integration.integration_type,
        "name": integration.name,
        "enabled": integration.enabled,
        "config": integration.config,
        "filters": integration.filters,
    }
    for name in secret_fields:
        data[f"has_{name}"] = name in stored
    data.update(
        status=integration.status,
        error_count=integration.error_count,
        last_error=integration.last_error,
        last_event_at=integration.last_event_at,
        last_attempt_at=integration.last_attempt_at,
        created_at=integration.created_at,
        updated_at=integration.updated_at,
        created_by=integration.created_by.get_username() if integration.created_by else None,
    )
    if pending is not None:
        data["pending"] = pending
    if connector is not None and connector.deprecated:
        data["deprecated"] = connector.deprecated
    return data


def audit_public(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "action": entry.action,
        "actor": entry.actor_name,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "target_name": entry.target_name,
        "changes": entry.changes,
        "created_at": entry.created_at,
    }


def audit_list(*, target_id: str | None = None, action: str | None = None) -> QuerySet[AuditEntry]:
    qs = AuditEntry.objects.all()
    if target_id:
        qs = qs.filter(target_id=target_id)
    if action:
        qs = qs.filter(action__startswith=action)
    return qs.order_by("-created_at", "-id")
