"""Add, edit and delete an integration. Thin: parse the forms, call a service, render.

Validation is the services' (``integration_create`` / ``integration_update`` raise
``IntegrationValidationError`` keyed by field path); the page only maps those errors back
onto its fields.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from delivery.connectors import CONNECTORS
from delivery.filters import validate_filters
from integrations import page_selectors, services
from integrations.forms import (
    ConfigFieldsForm,
    FiltersForm,
    IntegrationMainForm,
    apply_errors,
    config_initial,
    type_presets,
)
from integrations.models import Integration
from integrations.validation import IntegrationValidationError, integration_clean
from integrations.views.access import DELETE_PERM, manager_required, page, require_perm
from integrations.views.display import type_catalog, type_info


def _every_error(
    exc: IntegrationValidationError, *, integration_type: str, config: dict[str, Any], filters: dict[str, Any],
    existing: dict[str, Any] | None = None,
) -> dict[str, str]:
    """The service stops at its first failing check (e.g. the name); run the shared validator
    too, so the page shows every problem at once instead of one per submit."""
    errors = dict(exc.errors)
    if integration_type in CONNECTORS:
        cleared = {k for k, v in config.items() if v is None}
        try:
            integration_clean(integration_type=integration_type,
                              config={k: v for k, v in config.items() if v is not None}, filters=filters,
                              existing_secrets={k: v for k, v in (existing or {}).items() if k not in cleared})
        except IntegrationValidationError as more:
            for key, message in more.errors.items():
                errors.setdefault(key, message)
    return errors


def _filter_rows(filters_form: FiltersForm, stored: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The server-side first render of the "would this event match?" table."""
    raw = filters_form.values() if filters_form.is_bound else (stored or {})
    clean, errors = validate_filters(raw)
    if errors:
        return []
    return page_selectors.filter_check(clean, page_selectors.recent_events())


def _type_panels(selected: str, bound: ConfigFieldsForm | None) -> list[dict[str, Any]]:
    panels = []
    for info in type_catalog():
        form = bound if bound is not None and bound.connector.type == info.type else ConfigFieldsForm(CONNECTORS[info.type])
        panels.append({"info": info, "form": form, "presets": type_presets(CONNECTORS[info.type]),
                       "selected": info.type == selected})
    return panels


def _render_form(
    request: HttpRequest,
    *,
    main: IntegrationMainForm,
    config: ConfigFieldsForm | None,
    filters: FiltersForm,
    selected: str,
    integration: Integration | None = None,
    leftover: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    if integration is None:
        panels = _type_panels(selected, config)
        preview_url = reverse("siem-preview")
    else:
        assert config is not None
        panels = [{"info": type_info(selected), "form": config, "presets": type_presets(config.connector),
                   "selected": True}]
        preview_url = reverse("siem-preview-existing", args=[integration.pk])
    return page(request, "siem/form.html", {
        "integration": integration,
        "main": main,
        "panels": panels,
        "selected": selected,
        "filters_form": filters,
        "filter_rows": _filter_rows(filters, integration.filters if integration else None),
        "leftover": leftover or [],
        "preview_url": preview_url,
        "type": type_info(selected) if selected in CONNECTORS else None,
    }, status=status)


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
@manager_required
def integration_new(request: HttpRequest) -> HttpResponse:
    known = page_selectors.known_event_types()
    if request.method == "GET":
        selected = request.GET.get("type", "")
        if selected not in CONNECTORS:
            selected = type_catalog()[0].type
        return _render_form(request, main=IntegrationMainForm(), config=None,
                            filters=FiltersForm(known_types=known), selected=selected)

    selected = request.POST.get("integration_type", "")
    main = IntegrationMainForm(data=request.POST)
    filters = FiltersForm(data=request.POST, known_types=known)
    connector = CONNECTORS.get(selected)
    config = ConfigFieldsForm(connector, data=request.POST) if connector else None
    config_values, filter_values = (config.values() if config else {}), filters.values()
    try:
        integration = services.integration_create(
            actor=request.user, integration_type=selected, name=main.values()["name"],
            config=config_values, filters=filter_values, enabled=main.values()["enabled"],
        )
    except IntegrationValidationError as exc:
        errors = _every_error(exc, integration_type=selected, config=config_values, filters=filter_values)
        leftover = apply_errors(errors, main=main, config=config, filters=filters)
        return _render_form(request, main=main, config=config, filters=filters,
                            selected=selected if connector else type_catalog()[0].type, leftover=leftover, status=400)
    messages.success(request, f"“{integration.name}” created. Send a test event to check the connection.")
    return redirect("siem-detail", pk=integration.pk)


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
@manager_required
def integration_edit(request: HttpRequest, pk: Any) -> HttpResponse:
    integration = get_object_or_404(Integration, pk=pk)
    connector = CONNECTORS.get(integration.integration_type)
    if connector is None:  # a type whose module was removed: nothing to render it with
        messages.error(request, f"The type {integration.integration_type!r} is no longer installed.")
        return redirect("siem-detail", pk=pk)
    stored = frozenset(integration.get_secrets())
    known = page_selectors.known_event_types()
    if request.method == "GET":
        main = IntegrationMainForm(initial={"name": integration.name, "enabled": integration.enabled})
        config = ConfigFieldsForm(connector, stored_secrets=stored, editing=True,
                                  initial=config_initial(connector, integration.config))
        filters = FiltersForm(known_types=known, initial=FiltersForm.initial_from(integration.filters or {}, known))
        return _render_form(request, main=main, config=config, filters=filters,
                            selected=integration.integration_type, integration=integration)

    main = IntegrationMainForm(data=request.POST)
    config = ConfigFieldsForm(connector, data=request.POST, stored_secrets=stored, editing=True)
    filters = FiltersForm(data=request.POST, known_types=known)
    values, config_values, filter_values = main.values(), config.values(), filters.values()
    try:
        services.integration_update(
            actor=request.user, integration=integration, partial=False,
            data={"name": values["name"], "enabled": values["enabled"], "config": config_values,
                  "filters": filter_values},
        )
    except IntegrationValidationError as exc:
        integration.refresh_from_db()
        errors = _every_error(exc, integration_type=integration.integration_type, config=config_values,
                              filters=filter_values, existing=integration.get_secrets())
        leftover = apply_errors(errors, main=main, config=config, filters=filters)
        return _render_form(request, main=main, config=config, filters=filters,
                            selected=integration.integration_type, integration=integration,
                            leftover=leftover, status=400)
    messages.success(request, f"“{integration.name}” saved.")
    return redirect("siem-detail", pk=integration.pk)


@require_http_methods(["GET", "POST"])
@require_perm(DELETE_PERM)
@manager_required
def integration_delete(request: HttpRequest, pk: Any) -> HttpResponse:
    integration = get_object_or_404(Integration, pk=pk)
    if request.method == "POST":
        name = integration.name
        services.integration_delete(actor=request.user, integration=integration)
        messages.success(request, f"“{name}” deleted.")
        return redirect("siem-list")
    return page(request, "siem/delete.html", {"integration": integration,
                                              "type": type_info(integration.integration_type)})
