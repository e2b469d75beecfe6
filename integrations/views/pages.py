"""Read-only pages: the integration list, one integration's detail, the audit trail."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET

from delivery import selectors as delivery_selectors
from integrations import page_selectors, selectors
from integrations.models import Integration
from integrations.views.access import AUDIT_PERM, page, require_perm, viewer_required
from integrations.views.charts import histogram_svg
from integrations.views.display import type_catalog, type_info

AUDIT_ACTIONS = (
    ("", "All changes"),
    ("siem.integration.", "Integrations"),
    ("siem.integration.created", "Created"),
    ("siem.integration.updated", "Updated"),
    ("siem.integration.deleted", "Deleted"),
    ("siem.integration.tested", "Tested"),
    ("siem.dead_letter.", "Dead letter replays"),
    ("siem.api_key.", "API keys"),
)


def home(request: HttpRequest) -> HttpResponse:
    return redirect("siem-list")


def _card_context(card: page_selectors.IntegrationCard) -> dict[str, Any]:
    return {
        "card": card,
        "integration": card.integration,
        "type": type_info(card.integration.integration_type),
        "chart": histogram_svg(card.histogram),
    }


@require_GET
@viewer_required
def integration_list(request: HttpRequest) -> HttpResponse:
    cards = page_selectors.integration_cards(selectors.integration_list())
    items = [_card_context(c) for c in cards]
    summary = {
        "total": len(cards),
        "healthy": sum(1 for c in cards if c.integration.status == "success"),
        "failing": sum(1 for c in cards if c.integration.status == "error"),
        "pending": sum(c.pending for c in cards),
    }
    return page(request, "siem/list.html", {"items": items, "summary": summary, "types": type_catalog()})


def _audit_rows(entries: Any) -> list[dict[str, Any]]:
    return [{"entry": e, "kind": e.action.rsplit(".", 1)[-1], "diff": page_selectors.audit_diff_rows(e.changes)}
            for e in entries]


@require_GET
@viewer_required
def integration_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    integration = get_object_or_404(Integration, pk=pk)
    card = page_selectors.integration_card(integration)
    can_audit = request.user.has_perm(AUDIT_PERM)
    context = {
        **_card_context(card),
        "config_rows": page_selectors.config_display(integration),
        "filters": integration.filters or {},
        "attempts": delivery_selectors.attempts_for_integration(pk, limit=50),
        "dead_letters": delivery_selectors.dead_letters(integration_id=pk, include_replayed=True)[:100],
        "open_dead": delivery_selectors.dead_letters(integration_id=pk).count(),
        "audit": _audit_rows(selectors.audit_list(target_id=str(pk))[:50]) if can_audit else [],
    }
    return page(request, "siem/detail.html", context)


@require_GET
@require_perm(AUDIT_PERM)
def audit_trail(request: HttpRequest) -> HttpResponse:
    action = request.GET.get("action", "")
    if action not in dict(AUDIT_ACTIONS):
        action = ""
    entries = selectors.audit_list(action=action or None, target_id=request.GET.get("target") or None)
    paginator = Paginator(entries, 50)
    page_obj = paginator.get_page(request.GET.get("page"))
    live_ids = set(
        str(pk) for pk in Integration.objects.filter(
            pk__in=[e.target_id for e in page_obj if e.target_type == "integration" and _is_uuid(e.target_id)]
        ).values_list("pk", flat=True)
    )
    return page(request, "siem/audit.html", {
        "rows": _audit_rows(page_obj),
        "page_obj": page_obj,
        "actions": AUDIT_ACTIONS,
        "action": action,
        "live_ids": live_ids,
        "total": paginator.count,
        "nav": "audit",
    })


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
