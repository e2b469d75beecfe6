"""Writes the pages and the admin need beyond ``integrations.services``.

Kept apart so that module's owners need not change; each write here audits like the others.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from integrations.models import ApiKey
from integrations.services import audit_record


def api_key_revoke(*, actor: Any, api_key: ApiKey) -> ApiKey:
    """Revoke an API key now (idempotent); audited as ``siem.api_key.revoked``."""
    if api_key.revoked_at is not None:
        return api_key
    with transaction.atomic():
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_record(
            action="siem.api_key.revoked", actor=actor, target_type="api_key", target_id=str(api_key.pk),
            target_name=f"{api_key.name or 'key'} ({api_key.prefix}) for {api_key.user.get_username()}",
            changes={"prefix": api_key.prefix, "revoked_at": api_key.revoked_at.isoformat()},
        )
    return api_key
