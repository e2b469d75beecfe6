"""The small endpoints behind the page's buttons: Test, Enable, Replay, filter check, preview.

Each answers JSON to the page's JavaScript (``Accept: application/json``) and, where a plain
form can post to it, redirects back otherwise, so the buttons also work without JavaScript.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from delivery.connectors import CONNECTORS
from delivery.filters import validate_filters
from delivery.models import DeadLetter
from integrations import page_selectors, services
from integrations.forms import ConfigFieldsForm, FiltersForm
from integrations.models import Integration
from integrations.validation import IntegrationValidationError, integration_clean
from integrations.views.access import manager_required, viewer_required, wants_json

# Stands in for a secret not typed yet, so the preview works before the credential is known.
# Valid base64 and plain ASCII, so it passes the connectors' own checks; masked like any secret.
PREVIEW_PLACEHOLDER = "cHJldmlldy1vbmx5"


def _back(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback


def _status_payload(request: HttpRequest, integration: Integration) -> dict[str, Any]:
    return {
        "status": integration.status,
        "error_count": integration.error_count,
        "status_html": render_to_string("siem/_status.html", {"integration": integration}, request=request),
    }


@require_POST
@manager_required
def integration_test(request: HttpRequest, pk: Any) -> HttpResponse:
    """Send a real test event now (audited by the service) and report the outcome."""
    integration = get_object_or_404(Integration, pk=pk)
    success, message = services.integration_test(actor=request.user, integration=integration)
    integration.refresh_from_db()
    if wants_json(request):
        return JsonResponse({"success": success, "message": message, **_status_payload(request, integration)})
    (messages.success if success else messages.error)(request, f"Test: {message}")
    return redirect(_back(request, reverse("siem-detail", args=[pk])))


@require_POST
@manager_required
def integration_enable(request: HttpRequest, pk: Any) -> HttpResponse:
    """Turn delivery on or off (audited by the service)."""
    integration = get_object_or_404(Integration, pk=pk)
    enabled = request.POST.get("enabled", "").lower() in ("on", "true", "1", "yes")
    services.integration_set_enabled(actor=request.user, integration=integration, enabled=enabled)
    text = f"“{integration.name}” {'enabled' if enabled else 'disabled'}."
    if wants_json(request):
        return JsonResponse({"enabled": integration.enabled, "message": text})
    messages.success(request, text)
    return redirect(_back(request, reverse("siem-list")))


@require_POST
@manager_required
def dead_letters_replay(request: HttpRequest, pk: Any) -> HttpResponse:
    """Replay one (``only``), the checked (``ids``) or all (``all``) of this integration's dead letters."""
    integration = get_object_or_404(Integration, pk=pk)
    if request.POST.get("all"):
        count = services.dead_letters_replay(actor=request.user, integration_id=str(integration.pk))
    else:
        raw = [request.POST["only"]] if request.POST.get("only") else request.POST.getlist("ids")
        wanted = [int(i) for i in raw if str(i).isdigit()]
        # Only this integration's dead letters, whatever ids were posted.
        ids = list(DeadLetter.objects.filter(integration=integration, id__in=wanted).values_list("id", flat=True))
        # integration_id rides along so the audit entry lands in this integration's history
        # (the service selects by ids when both are given).
        count = services.dead_letters_replay(actor=request.user, ids=ids, integration_id=str(integration.pk)) \
            if ids else 0
    text = f"{count} dead letter{'s' if count != 1 else ''} queued for delivery." if count else "Nothing to replay."
    if wants_json(request):
        return JsonResponse({"replayed": count, "message": text})
    (messages.success if count else messages.info)(request, text)
    return redirect(reverse("siem-detail", args=[pk]) + "#dead-letters")


@require_GET
@viewer_required
def filter_check(request: HttpRequest) -> JsonResponse:
    """Which of the last ~20 events would the given filters let through? (read-only)"""
    raw = FiltersForm(data=request.GET).values()
    clean, errors = validate_filters(raw)
    if errors:
        return JsonResponse({"errors": errors}, status=400)
    rows = page_selectors.filter_check(clean, page_selectors.recent_events())
    matched = sum(1 for r in rows if r["matches"])
    summary = f"{matched} of {len(rows)} recent events would be sent." if rows else "No events received yet."
    return JsonResponse({"results": rows, "matched": matched, "summary": summary})


def _preview(request: HttpRequest, integration_type: str, stored: dict[str, Any]) -> JsonResponse:
    connector = CONNECTORS.get(integration_type)
    if connector is None:
        return JsonResponse({"errors": {"integration_type": "choose a destination type"}}, status=400)
    config = ConfigFieldsForm(connector, data=request.POST, stored_secrets=frozenset(stored)).values()
    for name in connector.secret_fields:
        field = connector.config_form.base_fields[name]
        if field.required and name not in config and name not in stored:
            config[name] = PREVIEW_PLACEHOLDER
    try:
        clean = integration_clean(integration_type=integration_type, config=config, filters={},
                                  existing_secrets=stored)
        requests = page_selectors.payload_preview(connector, config=clean.config, secrets=clean.secrets)
    except IntegrationValidationError as exc:
        return JsonResponse({"errors": exc.errors}, status=400)
    except Exception as exc:  # a connector bug must not become a 500 page; say what failed
        return JsonResponse({"errors": {"preview": f"could not format the sample event ({type(exc).__name__})"}},
                            status=400)
    return JsonResponse({"requests": requests, "event": page_selectors.sample_event()["type"]})


@require_POST
@sensitive_post_parameters()
@manager_required
def preview_new(request: HttpRequest) -> JsonResponse:
    """What a new integration with the form's current values would send (secrets masked)."""
    return _preview(request, request.POST.get("integration_type", ""), {})


@require_POST
@sensitive_post_parameters()
@manager_required
def preview_existing(request: HttpRequest, pk: Any) -> JsonResponse:
    """Same, for an existing integration: blank secret fields use the stored values (masked)."""
    integration = get_object_or_404(Integration, pk=pk)
    return _preview(request, integration.integration_type, integration.get_secrets())
