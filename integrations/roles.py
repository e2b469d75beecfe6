"""Two ready-made roles: "SIEM admins" manage integrations; "SIEM viewers" only look."""

from __future__ import annotations

from typing import Any

ADMIN_PERMS = [
    ("integrations", "integration", ["add", "change", "delete", "view"]),
    ("integrations", "auditentry", ["view"]),
    ("integrations", "apikey", ["view"]),
    ("delivery", "event", ["add", "view"]),
    ("delivery", "deadletter", ["view"]),
    ("delivery", "deliveryattempt", ["view"]),
]
VIEWER_PERMS = [
    ("integrations", "integration", ["view"]),
    ("integrations", "auditentry", ["view"]),
    ("delivery", "deadletter", ["view"]),
    ("delivery", "deliveryattempt", ["view"]),
]
ROLES = {"SIEM admins": ADMIN_PERMS, "SIEM viewers": VIEWER_PERMS}


def ensure_roles(group_model: Any = None, permission_model: Any = None) -> None:
    """Create or complete the role groups (idempotent). Models may be historical ones."""
    if group_model is None:
        from django.contrib.auth.models import Group as group_model, Permission as permission_model
    extra = {"integrations": {"test_integration"}}
    for group_name, spec in ROLES.items():
        group, _ = group_model.objects.get_or_create(name=group_name)
        for app_label, model, actions in spec:
            codenames = {f"{action}_{model}" for action in actions}
            if group_name == "SIEM admins":
                codenames |= extra.get(app_label, set()) if model == "integration" else set()
            group.permissions.add(
                *permission_model.objects.filter(content_type__app_label=app_label, codename__in=codenames)
            )
