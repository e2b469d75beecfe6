"""Django admin for integrations, the audit trail and API keys.

Every write goes through the services (validated and audited): the admin never saves an
Integration itself. Secrets are write-only here too: password inputs that start empty.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html

from delivery import selectors as delivery_selectors
from delivery.connectors import CONNECTORS
from integrations import page_services, services
from integrations.forms import WriteOnlyTextarea, nice_label, type_choices
from integrations.models import ApiKey, AuditEntry, Integration
from integrations.validation import IntegrationValidationError, integration_clean

admin.site.site_header = "siemhub administration"
admin.site.site_title = "siemhub admin"
admin.site.index_title = "Configuration and delivery records"

SECRET_PREFIX = "secret__"
CLEAR_PREFIX = "clear__"


def _secret_widget(name: str, types: list[str]) -> forms.Widget:
    """A password input, or an empty textarea for multi-line secrets (PEM keys, header lists)."""
    for type_ in types:
        field = CONNECTORS[type_].config_form.base_fields.get(name)
        if field is not None and (isinstance(field.widget, forms.Textarea) or field.__class__.__name__ == "HeadersField"):
            return WriteOnlyTextarea(attrs={"rows": 3, "autocomplete": "off"})
    return forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})


class PrettyJSONField(forms.JSONField):
    """JSON shown indented, so a settings object is readable in the textarea."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, str):  # the user's own (possibly invalid) input: show it as typed
            return value
        return json.dumps(value, indent=2, ensure_ascii=False, cls=self.encoder)


class IntegrationAdminForm(forms.ModelForm):
    """Name, type, enabled, non-secret settings as JSON, and one write-only input per secret.

    ``clean`` runs the shared validator (``integration_clean``) so errors show on the form;
    ``IntegrationAdmin.save_model`` then calls the service, which validates again and audits.
    """

    integration_type = forms.ChoiceField(choices=type_choices)
    config = PrettyJSONField(required=False, widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
                             help_text="Non-secret settings as a JSON object, e.g. {\"endpoint\": \"https://...\"}. "
                                       "Secrets go in their own fields below.")
    filters = PrettyJSONField(required=False, widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
                              help_text='e.g. {"events": ["finding.*"], "min_severity": "high"}')

    class Meta:
        model = Integration
        fields = ["name", "integration_type", "enabled"]

    secret_names: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stored: dict[str, Any] = {}
        if self.instance and not self.instance._state.adding:
            self.stored = self.instance.get_secrets()
            self.fields["integration_type"].disabled = True
            self.fields["config"].initial = self.instance.config
            self.fields["filters"].initial = self.instance.filters
        self.payload: dict[str, Any] = {}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        type_ = data.get("integration_type") or (self.instance.integration_type if self.instance else "")
        connector = CONNECTORS.get(type_)
        config = data.get("config") or {}
        if connector is None or not isinstance(config, dict):
            if not isinstance(config, dict):
                self.add_error("config", "Must be a JSON object.")
            return data
        leaked = sorted(set(config) & set(connector.secret_fields))
        if leaked:
            self.add_error("config", f"Put {', '.join(leaked)} in the secret field(s) below, not in the JSON.")
            # The form is shown again: never echo the secret typed into the JSON box.
            self.data = self.data.copy()
            self.data["config"] = json.dumps({k: v for k, v in config.items() if k not in leaked})
            return data
        keep = dict(self.stored)
        for name in connector.secret_fields:
            value = self.cleaned_data.get(SECRET_PREFIX + name)
            if value:
                config[name] = value
            elif self.cleaned_data.get(CLEAR_PREFIX + name):
                keep.pop(name, None)
        try:
            integration_clean(integration_type=type_, config=config, filters=data.get("filters") or {},
                              existing_secrets=keep)
        except IntegrationValidationError as exc:
            self._show(exc.errors, connector.secret_fields)
            return data
        cleared = {n: None for n in connector.secret_fields if n in self.stored and n not in keep}
        self.payload = {"integration_type": type_, "config": {**config, **cleared}, "filters": data.get("filters") or {}}
        return data

    def _show(self, errors: dict[str, str], secret_fields: tuple[str, ...]) -> None:
        for key, message in errors.items():
            head, _, rest = key.partition(".")
            if head == "config" and rest in secret_fields and SECRET_PREFIX + rest in self.fields:
                self.add_error(SECRET_PREFIX + rest, message)
            elif head in ("config", "filters"):
                self.add_error(head, f"{rest}: {message}" if rest else message)
            elif head in self.fields:
                self.add_error(head, message)
            else:
                self.add_error(None, f"{key}: {message}")


class IntegrationTypeFilter(admin.SimpleListFilter):
    title = "type"
    parameter_name = "integration_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(t, c.label) for t, c in CONNECTORS.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Integration]) -> QuerySet[Integration]:
        return queryset.filter(integration_type=self.value()) if self.value() else queryset


STATUS_COLOURS = {"success": "#15803d", "error": "#b91c1c", "not_yet_invoked": "#64748b"}


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    form = IntegrationAdminForm
    list_display = ("name", "type_label", "enabled", "status_pill", "error_count", "last_event_at", "pending")
    list_filter = (IntegrationTypeFilter, "status", "enabled")
    search_fields = ("name",)
    readonly_fields = ("status", "error_count", "last_error", "last_event_at", "last_attempt_at", "created_at",
                       "updated_at", "created_by")
    actions = ["test_selected", "enable_selected", "disable_selected", "replay_dead_letters"]

    def get_form(self, request: HttpRequest, obj: Integration | None = None, change: bool = False, **kwargs: Any) -> Any:
        """Add one write-only input per secret: the integration's own, or every type's on add."""
        types = [obj.integration_type] if obj is not None and obj.integration_type in CONNECTORS else list(CONNECTORS)
        stored = obj.get_secrets() if obj is not None else {}
        extra: dict[str, forms.Field] = {}
        for type_ in types:
            connector = CONNECTORS[type_]
            for name in connector.secret_fields:
                key = SECRET_PREFIX + name
                if key in extra:
                    extra[key].help_text += f", {type_}"  # type: ignore[operator]
                    continue
                users = [t for t in types if name in CONNECTORS[t].secret_fields]
                if obj is not None:
                    help_text = "Stored — leave blank to keep the current value." if name in stored else "Not set."
                else:
                    help_text = "Write-only. Used by: " + type_
                extra[key] = forms.CharField(required=False, label=f"{nice_label(name)} (secret)",
                                             widget=_secret_widget(name, users), help_text=help_text, strip=False)
                if obj is not None and name in stored:
                    extra[CLEAR_PREFIX + name] = forms.BooleanField(required=False, label=f"Remove stored {nice_label(name)}")
        kwargs["form"] = type("IntegrationAdminFormWithSecrets", (self.form,), extra)
        kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Integration | None = None) -> Any:
        form = self.get_form(request, obj)
        secrets = [n for n in form.base_fields if n.startswith((SECRET_PREFIX, CLEAR_PREFIX))]
        sets: list[Any] = [
            (None, {"fields": ["name", "integration_type", "enabled"]}),
            ("Settings", {"fields": ["config", "filters"]}),
            ("Secrets (write-only)", {"fields": secrets}),
        ]
        if obj is not None:
            sets.append(("Status", {"fields": list(self.readonly_fields)}))
        return sets

    def save_model(self, request: HttpRequest, obj: Integration, form: Any, change: bool) -> None:
        payload = form.payload
        data = form.cleaned_data
        if change:
            current = Integration.objects.get(pk=obj.pk)
            services.integration_update(
                actor=request.user, integration=current, partial=False,
                data={"name": data["name"], "enabled": data["enabled"], "config": payload["config"],
                      "filters": payload["filters"]},
            )
        else:
            created = services.integration_create(
                actor=request.user, integration_type=payload["integration_type"], name=data["name"],
                config=payload["config"], filters=payload["filters"], enabled=data["enabled"],
            )
            obj.pk = created.pk
            obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: Integration) -> None:
        services.integration_delete(actor=request.user, integration=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Integration]) -> None:
        for integration in queryset:
            services.integration_delete(actor=request.user, integration=integration)

    @admin.display(description="type", ordering="integration_type")
    def type_label(self, obj: Integration) -> str:
        connector = CONNECTORS.get(obj.integration_type)
        return connector.label if connector else obj.integration_type

    @admin.display(description="status", ordering="status")
    def status_pill(self, obj: Integration) -> str:
        return format_html('<b style="color:{}">{}</b>', STATUS_COLOURS.get(obj.status, "#64748b"),
                           obj.get_status_display())

    @admin.display(description="pending")
    def pending(self, obj: Integration) -> int:
        return delivery_selectors.pending_count(obj.pk)

    @admin.action(description="Send a test event", permissions=["change"])
    def test_selected(self, request: HttpRequest, queryset: QuerySet[Integration]) -> None:
        for integration in queryset:
            success, message = services.integration_test(actor=request.user, integration=integration)
            self.message_user(request, f"{integration.name}: {message}", messages.SUCCESS if success else messages.ERROR)

    def _set_enabled(self, request: HttpRequest, queryset: QuerySet[Integration], enabled: bool) -> None:
        for integration in queryset:
            services.integration_set_enabled(actor=request.user, integration=integration, enabled=enabled)
        self.message_user(request, f"{queryset.count()} integration(s) {'enabled' if enabled else 'disabled'}.")

    @admin.action(description="Enable", permissions=["change"])
    def enable_selected(self, request: HttpRequest, queryset: QuerySet[Integration]) -> None:
        self._set_enabled(request, queryset, True)

    @admin.action(description="Disable", permissions=["change"])
    def disable_selected(self, request: HttpRequest, queryset: QuerySet[Integration]) -> None:
        self._set_enabled(request, queryset, False)

    @admin.action(description="Replay dead letters", permissions=["change"])
    def replay_dead_letters(self, request: HttpRequest, queryset: QuerySet[Integration]) -> None:
        total = sum(services.dead_letters_replay(actor=request.user, integration_id=str(i.pk)) for i in queryset)
        self.message_user(request, f"{total} dead letter(s) queued for delivery.")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records, not configuration: viewable, never added, edited or deleted here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor_name", "action", "target_type", "target_name")
    list_filter = ("action", "target_type")
    search_fields = ("target_name", "actor_name", "target_id")
    date_hierarchy = "created_at"
    fields = ("created_at", "actor_name", "action", "target_type", "target_id", "target_name", "changes")


class ApiKeyAddForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["user", "name"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created by ``api_key_create`` and shown once; only their hash is stored (never shown)."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "state")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username")
    actions = ["revoke_selected"]

    def get_form(self, request: HttpRequest, obj: ApiKey | None = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = ApiKeyAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        if obj is None:
            return ["user", "name"]
        return ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]  # never key_hash

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        return [] if obj is None else self.get_fields(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead: the audit trail keeps the key's history

    @admin.display(description="state")
    def state(self, obj: ApiKey) -> str:
        return "revoked" if obj.revoked_at else "active"

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            return  # nothing is editable on an existing key
        row, key = services.api_key_create(actor=request.user, user=form.cleaned_data["user"],
                                           name=form.cleaned_data.get("name") or "")
        obj.pk = row.pk
        obj._state.adding = False
        request._siemhub_new_api_key = key  # type: ignore[attr-defined]

    def response_add(self, request: HttpRequest, obj: ApiKey, post_url_continue: str | None = None) -> HttpResponse:
        """Show the new key once, in this response (never in a redirect, message or log)."""
        key = getattr(request, "_siemhub_new_api_key", "")
        response = TemplateResponse(request, "admin/integrations/apikey/created.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "api_key": obj, "key": key,
            "title": "API key created",
        })
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke", permissions=["change"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset.select_related("user"):
            page_services.api_key_revoke(actor=request.user, api_key=key)
        self.message_user(request, f"{queryset.count()} key(s) revoked.")
