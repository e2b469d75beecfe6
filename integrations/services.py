"""Configuration workflows: integrations, audit entries, API keys.

Every change writes an AuditEntry (secrets replaced by "[REDACTED]", value-aware) and emits the
same entry as an event in the same transaction, so the audit trail is forwarded like any event.
"""

from __future__ import annotations

import hashlib
import secrets as pysecrets
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from delivery.services import event_emit
from integrations.models import ApiKey, AuditEntry, Integration
from integrations.validation import IntegrationValidationError, integration_clean, integration_type_check
from siemhub.redaction import REDACTED, remember_secrets, scrub_data

AUDIT_SEVERITY = {"siem.integration.deleted": "medium", "siem.api_key.created": "medium"}
_NAME_MAX = 200


def _actor_name(actor: Any) -> str:
    if actor is None or isinstance(actor, AnonymousUser):
        return "system"
    return actor.get_username()


def audit_record(
    *, action: str, actor: Any, target_type: str, target_id: str, target_name: str,
    changes: Mapping[str, Any], secret_values: list[Any] | tuple[Any, ...] = (),
    public_keys: Iterable[str] = (),
) -> AuditEntry:
    """Write an audit entry and emit it as an event (secrets scrubbed by name and by value).

    ``public_keys``: config keys the connector declares non-secret (not in its secret_fields)
    whose names merely look sensitive, such as ``signature`` or ``auth``.
    """
    clean = scrub_data(dict(changes), secret_values, exempt_keys=public_keys)
    entry = AuditEntry.objects.create(
        action=action,
        actor=actor if isinstance(actor, AbstractBaseUser) else None,
        actor_name=_actor_name(actor),
        target_type=target_type,
        target_id=target_id,
        target_name=target_name,
        changes=clean,
    )
    event_emit([{
        "type": action,
        "timestamp": entry.created_at.isoformat(),
        "severity": AUDIT_SEVERITY.get(action, "info"),
        "data": {"actor": entry.actor_name, "target_type": target_type, "target_id": target_id,
                 "target_name": target_name, "changes": clean, "audit_id": entry.pk},
    }])
    return entry


def _public_keys(integration_type: str) -> tuple[str, ...]:
    """Config keys of this type that are not secrets (the connector's form minus secret_fields)."""
    from delivery.connectors import CONNECTORS

    connector = CONNECTORS.get(integration_type)
    if connector is None:
        return ()
    return tuple(k for k in connector.config_form.base_fields if k not in connector.secret_fields)


def _secret_markers(secrets: Mapping[str, Any]) -> dict[str, str]:
    return {k: REDACTED for k, v in secrets.items() if v not in (None, "", {}, [])}


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise IntegrationValidationError({"name": "is required"})
    if len(name) > _NAME_MAX or any(ord(c) < 32 for c in name):
        raise IntegrationValidationError({"name": f"must be at most {_NAME_MAX} characters, no control characters"})
    return name.strip()


def _check_enabled(enabled: Any) -> bool:
    if not isinstance(enabled, bool):
        raise IntegrationValidationError({"enabled": "must be true or false"})
    return enabled


def integration_create(
    *, actor: Any, integration_type: Any, name: Any, config: Any = None, filters: Any = None, enabled: Any = True
) -> Integration:
    integration_type_check(integration_type)
    name = _check_name(name)
    enabled = _check_enabled(enabled)
    clean = integration_clean(integration_type=integration_type, config=config, filters=filters)
    with transaction.atomic():
        integration = Integration(
            integration_type=integration_type, name=name, enabled=enabled, config=clean.config,
            filters=clean.filters, created_by=actor if isinstance(actor, AbstractBaseUser) else None,
        )
        integration.set_secrets(clean.secrets)
        integration.save()
        remember_secrets(clean.secrets.values())
        audit_record(
            action="siem.integration.created", actor=actor, target_type="integration",
            target_id=str(integration.pk), target_name=name,
            changes={"integration_type": integration_type, "name": name, "enabled": enabled,
                     "config": clean.config, "secrets": _secret_markers(clean.secrets), "filters": clean.filters},
            secret_values=list(clean.secrets.values()), public_keys=_public_keys(integration_type),
        )
    return integration


def integration_update(*, actor: Any, integration: Integration, data: Mapping[str, Any], partial: bool) -> Integration:
    """PUT (``partial=False``: name, config and filters replaced) or PATCH. Omitted secrets are kept."""
    unknown = set(data) - {"name", "config", "filters", "enabled", "integration_type"}
    if unknown:
        raise IntegrationValidationError({k: "unknown field" for k in sorted(unknown)})
    if "integration_type" in data and data["integration_type"] != integration.integration_type:
        raise IntegrationValidationError({"integration_type": "cannot be changed; create a new integration"})
    if not partial and "name" not in data:
        raise IntegrationValidationError({"name": "is required"})
    old_secrets = integration.get_secrets()
    before = {"name": integration.name, "enabled": integration.enabled, "config": dict(integration.config),
              "filters": dict(integration.filters)}
    name = _check_name(data["name"]) if "name" in data else integration.name
    enabled = _check_enabled(data["enabled"]) if "enabled" in data else integration.enabled
    if "config" in data and partial and isinstance(data["config"], Mapping):
        config_in: Any = {**integration.config, **data["config"]}
    elif "config" in data:
        config_in = data["config"]
    else:
        config_in = dict(integration.config) if partial else {}
    cleared = {k for k, v in (data.get("config") or {}).items() if v is None} if isinstance(data.get("config"), Mapping) else set()
    if isinstance(config_in, Mapping):
        config_in = {k: v for k, v in config_in.items() if v is not None}
    keep = {k: v for k, v in old_secrets.items() if k not in cleared}
    filters_in = data["filters"] if "filters" in data else (integration.filters if partial else {})
    clean = integration_clean(integration_type=integration.integration_type, config=config_in,
                              filters=filters_in, existing_secrets=keep)
    changes: dict[str, Any] = {}
    after = {"name": name, "enabled": enabled, "config": clean.config, "filters": clean.filters}
    for key, old in before.items():
        if old != after[key]:
            changes[key] = {"old": old, "new": after[key]}
    secret_changes = {
        k: {"old": REDACTED if k in old_secrets else None, "new": REDACTED if k in clean.secrets else None}
        for k in set(old_secrets) | set(clean.secrets)
        if old_secrets.get(k) != clean.secrets.get(k)
    }
    if secret_changes:
        changes["secrets"] = secret_changes
    with transaction.atomic():
        integration.name, integration.enabled = name, enabled
        integration.config, integration.filters = clean.config, clean.filters
        integration.set_secrets(clean.secrets)
        integration.save()
        remember_secrets(clean.secrets.values())
        if changes:
            audit_record(
                action="siem.integration.updated", actor=actor, target_type="integration",
                target_id=str(integration.pk), target_name=name, changes=changes,
                secret_values=list(old_secrets.values()) + list(clean.secrets.values()),
                public_keys=_public_keys(integration.integration_type),
            )
    return integration


def integration_set_enabled(*, actor: Any, integration: Integration, enabled: bool) -> Integration:
    return integration_update(actor=actor, integration=integration, data={"enabled": enabled}, partial=True)


def integration_delete(*, actor: Any, integration: Integration) -> None:
    secrets = integration.get_secrets()
    with transaction.atomic():
        audit_record(
            action="siem.integration.deleted", actor=actor, target_type="integration",
            target_id=str(integration.pk), target_name=integration.name,
            changes={"integration_type": integration.integration_type, "name": integration.name,
                     "config": integration.config, "secrets": _secret_markers(secrets)},
            secret_values=list(secrets.values()), public_keys=_public_keys(integration.integration_type),
        )
        integration.delete()


def integration_test(*, actor: Any, integration: Integration) -> tuple[bool, str]:
    """Send a real test event now; audit the attempt with its outcome."""
    from delivery.sender import integration_send_test

    success, message = integration_send_test(integration)
    secrets = integration.get_secrets()
    audit_record(
        action="siem.integration.tested", actor=actor, target_type="integration",
        target_id=str(integration.pk), target_name=integration.name,
        changes={"success": success, "message": message}, secret_values=list(secrets.values()),
    )
    return success, message


def dead_letters_replay(*, actor: Any, ids: list[int] | None = None, integration_id: str | None = None) -> int:
    from delivery.deadletter import dead_letter_replay

    with transaction.atomic():
        count = dead_letter_replay(ids=ids, integration_id=integration_id)
        audit_record(
            action="siem.dead_letter.replayed", actor=actor, target_type="dead_letter",
            target_id=integration_id or "", target_name="dead letters",
            changes={"ids": ids, "integration_id": integration_id, "replayed": count},
        )
    return count


API_KEY_PREFIX = "shk_"


def api_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_create(*, actor: Any, user: AbstractBaseUser, name: str = "") -> tuple[ApiKey, str]:
    """Create an API key for ``user``; returns (row, plaintext key). The key is shown once."""
    prefix = pysecrets.token_hex(6)
    key = f"{API_KEY_PREFIX}{prefix}_{pysecrets.token_urlsafe(32)}"
    with transaction.atomic():
        row = ApiKey.objects.create(user=user, name=name[:100], prefix=prefix, key_hash=api_key_hash(key))
        audit_record(
            action="siem.api_key.created", actor=actor, target_type="api_key", target_id=str(row.pk),
            target_name=f"{name or 'key'} ({prefix}) for {user.get_username()}",
            changes={"user": user.get_username(), "name": name, "prefix": prefix},
        )
    return row, key


def api_key_authenticate(key: str) -> ApiKey | None:
    """The live ApiKey for ``key``, or None. Constant-time comparison of the hash."""
    import hmac

    if not key.startswith(API_KEY_PREFIX) or key.count("_") < 2:
        return None
    prefix = key[len(API_KEY_PREFIX):].split("_", 1)[0]
    row = ApiKey.objects.select_related("user").filter(prefix=prefix, revoked_at__isnull=True).first()
    if row is None or not hmac.compare_digest(row.key_hash, api_key_hash(key)) or not row.user.is_active:
        return None
    now = timezone.now()
    # At most one write a minute per key: a write + commit on every request was a fifth of
    # the web process's time for single-event ingest.
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=row.pk).update(last_used_at=now)
    return row
