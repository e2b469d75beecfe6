"""Settings → SIEM pages (server-rendered). Split by concern to keep each module small."""

from integrations.views.actions import (
    dead_letters_replay,
    filter_check,
    integration_enable,
    integration_test,
    preview_existing,
    preview_new,
)
from integrations.views.editor import integration_delete, integration_edit, integration_new
from integrations.views.pages import audit_trail, home, integration_detail, integration_list

__all__ = [
    "audit_trail", "dead_letters_replay", "filter_check", "home", "integration_delete", "integration_detail",
    "integration_edit", "integration_enable", "integration_list", "integration_new", "integration_test",
    "preview_existing", "preview_new",
]
