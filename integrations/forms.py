"""Forms of the Settings → SIEM pages, built from the connector registry.

The page never re-implements a connector's rules: :class:`ConfigFieldsForm` only *renders* the
connector's own ``config_form`` fields (secret ones as write-only inputs) and *reads* the
posted values back into the JSON shape the services take. Validation happens once, in
``integrations.validation.integration_clean`` (called by the services); its errors, keyed
``config.<field>`` / ``filters.<key>`` / ``name``, are put back on these forms by
:func:`apply_errors`.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Mapping
from typing import Any

from django import forms
from django.forms.utils import ErrorDict

from delivery.connectors import CONNECTORS
from delivery.connectors.base import Connector, HttpConfigForm
from delivery.connectors.fields import HeadersField
from delivery.normalize import SEVERITIES

# Fields every type shares (schema, timeout, TLS options): shown under "Advanced".
COMMON_FIELDS = frozenset(HttpConfigForm.base_fields)

# Fields that only matter for some values of another field. Keyed by *field names*, not by
# type, so any connector reusing these names gets the same behaviour; a connector can add its
# own with a ``ui_show_when = {field: (controller, values)}`` class attribute.
SHOW_WHEN: dict[str, tuple[str, tuple[str, ...]]] = {
    "username": ("auth", ("basic",)),
    "password": ("auth", ("basic",)),
    "headers": ("auth", ("header",)),
    "signature_header": ("signature", ("hmac-sha256",)),
    "secret": ("signature", ("hmac-sha256", "standard-webhooks")),
    "ca_bundle": ("protocol", ("tls",)),
    "client_cert": ("protocol", ("tls",)),
    "client_key": ("protocol", ("tls",)),
    "framing": ("protocol", ("tcp", "tls")),
    "udp_max_bytes": ("protocol", ("udp",)),
}
# A type offering "API key" *or* "username + password" without an ``auth`` choice (Elastic)
# gets a page-only switch between the two; it is not part of the config.
CREDENTIAL_SWITCH = "credential"
CREDENTIAL_CHOICES = (("api_key", "API key"), ("basic", "Username + password"))

KNOWN_EVENT_TYPES: tuple[str, ...] = (
    "finding.*", "finding.new", "finding.updated", "finding.resolved",
    "scan.*", "scan.completed", "action.completed",
    "transaction.*", "transaction.created", "transaction.verified", "transaction.denied", "transaction.expired",
    "auth.*", "auth.login.succeeded", "auth.login.failed",
    "audit.*", "system.alert", "siem.*",
)


# Words Django's automatic labels would lower-case ("Tls verify", "Api key").
_ACRONYMS = {"tls": "TLS", "url": "URL", "api": "API", "ca": "CA", "id": "ID", "dcr": "DCR", "hec": "HEC",
             "udp": "UDP", "tcp": "TCP", "pem": "PEM", "ack": "ACK", "cef": "CEF", "leef": "LEEF"}


def nice_label(name: str) -> str:
    """``tls_verify`` → ``TLS verify``: a readable label for a config key without one."""
    words = [_ACRONYMS.get(w, w) for w in name.split("_")]
    if words and words[0] == name.split("_")[0]:
        words[0] = words[0].capitalize()
    return " ".join(words)


def _split_list(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


class WriteOnlyTextarea(forms.Textarea):
    """A textarea that never renders a value: for multi-line secrets (PEM keys, header lists),
    which a password input cannot hold."""

    def format_value(self, value: Any) -> None:
        return None


class ServiceValidatedForm(forms.Form):
    """A form that renders and reads values but leaves validation to the services.

    ``full_clean`` only prepares an empty error dict, so the errors shown are exactly the ones
    the service reported (via :func:`apply_errors`), never a second, diverging rule set.
    """

    def full_clean(self) -> None:
        self._errors = ErrorDict(renderer=self.renderer)
        self.cleaned_data = {}


class IntegrationMainForm(ServiceValidatedForm):
    """Name and enabled flag: the parts of an integration every type has."""

    name = forms.CharField(max_length=200, help_text="Shown in lists and alerts, e.g. “Splunk production”.")
    enabled = forms.BooleanField(required=False, initial=True, help_text="Deliver events to this destination.")

    def values(self) -> dict[str, Any]:
        """The raw posted values (the service validates them)."""
        return {
            "name": self["name"].value() or "",
            "enabled": bool(self.fields["enabled"].widget.value_from_datadict(self.data, self.files, self.add_prefix("enabled"))),
        }


class ConfigFieldsForm(ServiceValidatedForm):
    """One connector's config fields, for rendering and for reading posted values back.

    Secret fields render empty (``render_value=False``): a blank secret means "keep the stored
    value"; an optional stored secret can be removed with its ``<name>__clear`` checkbox.
    """

    def __init__(
        self,
        connector: type[Connector],
        *,
        stored_secrets: frozenset[str] = frozenset(),
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("prefix", f"cfg-{connector.type}")
        super().__init__(**kwargs)
        self.connector = connector
        self.stored_secrets = stored_secrets
        self.editing = editing
        self.fields = {}
        for name, field in connector.config_form.base_fields.items():
            self.fields[name] = self._page_field(name, copy.deepcopy(field))
        self.show_when = self._visibility_rules()

    def _page_field(self, name: str, field: forms.Field) -> forms.Field:
        if field.label is None:
            field.label = nice_label(name)
        if name not in self.connector.secret_fields:
            return field
        multiline = isinstance(field.widget, forms.Textarea) or isinstance(field, HeadersField)
        # Never put a stored secret back into the page: password inputs with render_value=False,
        # and multi-line secrets (PEM keys, header lists) as textareas that start empty.
        field.widget = WriteOnlyTextarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}) if multiline \
            else forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
        field.initial = None
        if name in self.stored_secrets:
            field.required = False  # blank keeps the stored value
        return field

    def _visibility_rules(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        rules = {**SHOW_WHEN, **getattr(self.connector, "ui_show_when", {})}
        active: dict[str, tuple[str, tuple[str, ...]]] = {}
        for name, (controller, values) in rules.items():
            target, source = self.fields.get(name), self.fields.get(controller)
            if target is None:
                continue
            if source is None and controller == CREDENTIAL_SWITCH and self.has_credential_switch:
                active[name] = (controller, values)
            elif isinstance(source, forms.ChoiceField):
                offered = {str(value) for value, _ in source.choices}
                if set(values) <= offered:
                    active[name] = (controller, values)
        if self.has_credential_switch:
            active["api_key"] = (CREDENTIAL_SWITCH, ("api_key",))
            active["username"] = (CREDENTIAL_SWITCH, ("basic",))
            active["password"] = (CREDENTIAL_SWITCH, ("basic",))
        return active

    @property
    def has_credential_switch(self) -> bool:
        return {"api_key", "username", "password"} <= set(self.fields) and "auth" not in self.fields

    def credential_initial(self) -> str:
        """Which credential the switch starts on: what is stored, else the API key."""
        if self.is_bound:
            return self.data.get(self.add_prefix(CREDENTIAL_SWITCH)) or "api_key"
        username = (self.initial or {}).get("username")
        return "basic" if username and "api_key" not in self.stored_secrets else "api_key"

    def _row(self, name: str) -> dict[str, Any]:
        rule = self.show_when.get(name)
        return {
            "field": self[name],
            "secret": name in self.connector.secret_fields,
            "stored": name in self.stored_secrets,
            # Only an optional secret may be removed; a required one can only be replaced.
            "clearable": not self.connector.config_form.base_fields[name].required,
            "clear_name": self.clear_name(name),
            "show_when": (self.add_prefix(rule[0]), rule[1]) if rule else None,
            "wide": isinstance(self.fields[name].widget, forms.Textarea),
        }

    def main_rows(self) -> list[dict[str, Any]]:
        """The type's own fields, in the connector form's order."""
        return [self._row(n) for n in self.fields if n not in COMMON_FIELDS]

    def advanced_rows(self) -> list[dict[str, Any]]:
        """Options every type shares (schema, timeout, TLS): folded away by default."""
        return [self._row(n) for n in self.fields if n in COMMON_FIELDS]

    def credential_switch(self) -> dict[str, Any] | None:
        if not self.has_credential_switch:
            return None
        return {"name": self.add_prefix(CREDENTIAL_SWITCH), "choices": CREDENTIAL_CHOICES,
                "value": self.credential_initial()}

    def clear_name(self, name: str) -> str:
        return self.add_prefix(f"{name}__clear")

    def values(self) -> dict[str, Any]:
        """Posted values as the services take them: blank text omitted (the type's default
        applies), blank secrets omitted (kept), a secret to remove as None."""
        config: dict[str, Any] = {}
        for name, field in self.fields.items():
            key = self.add_prefix(name)
            raw = field.widget.value_from_datadict(self.data, self.files, key)
            if name in self.connector.secret_fields:
                if self.data.get(self.clear_name(name)) and not raw:
                    config[name] = None
                elif raw not in (None, ""):
                    config[name] = raw
                continue
            if isinstance(field.widget, forms.CheckboxInput):
                config[name] = bool(raw)
            elif raw not in (None, "", []):
                config[name] = raw.strip() if isinstance(raw, str) and not isinstance(field.widget, forms.Textarea) else raw
        return config


def config_initial(connector: type[Connector], config: Mapping[str, Any]) -> dict[str, Any]:
    """Initial values of the config fields for an existing integration (secrets excluded)."""
    initial: dict[str, Any] = {}
    for name in connector.config_form.base_fields:
        if name in connector.secret_fields or name not in config:
            continue
        value = config[name]
        initial[name] = "\n".join(f"{k}: {v}" for k, v in value.items()) if isinstance(value, Mapping) else value
    return initial


def type_presets(connector: type[Connector]) -> list[dict[str, Any]]:
    """Presets a connector module offers (``PRESETS`` dict, optional ``PRESET_LABELS``)."""
    module = sys.modules.get(connector.__module__)
    presets = getattr(connector, "presets", None) or getattr(module, "PRESETS", None) or {}
    labels = getattr(module, "PRESET_LABELS", {}) or {}
    out = []
    for key, value in presets.items():
        if not isinstance(value, Mapping):
            continue
        config = value.get("config", value)
        label = labels.get(key) or value.get("label") or str(key).replace("_", " ").title()
        values = {k: v for k, v in config.items() if k != "label"}
        out.append({"key": key, "label": label, "config": values, "json": json.dumps(values)})
    return out


class FiltersForm(ServiceValidatedForm):
    """Routing filters: which events this integration receives (DESIGN.md §4)."""

    events = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Event types",
        help_text="Forward only these types; none selected = every type. * matches any run of characters.",
    )
    events_other = forms.CharField(
        required=False, label="Other event types",
        help_text="Comma-separated, e.g. finding.sla.*, custom.alert",
    )
    min_severity = forms.ChoiceField(
        required=False, label="Minimum severity",
        choices=[("", "Any severity")] + [(s, s.title()) for s in SEVERITIES],
    )
    asset_tags = forms.CharField(
        required=False, label="Asset tags",
        help_text="Comma-separated: forward only events whose asset carries one of these tags.",
    )
    exclude = forms.CharField(
        required=False, label="Excluded event types",
        help_text="Comma-separated types to drop, e.g. auth.login.succeeded; wins over the list above.",
    )

    def __init__(self, *args: Any, known_types: tuple[str, ...] | list[str] = KNOWN_EVENT_TYPES, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "filters")
        super().__init__(*args, **kwargs)
        self.fields["events"].choices = [(t, t) for t in known_types]  # type: ignore[attr-defined]
        self.known_types = tuple(known_types)

    @classmethod
    def initial_from(cls, filters: Mapping[str, Any], known_types: tuple[str, ...] | list[str]) -> dict[str, Any]:
        events = list(filters.get("events") or [])
        return {
            "events": [e for e in events if e in known_types],
            "events_other": ", ".join(e for e in events if e not in known_types),
            "min_severity": filters.get("min_severity") or "",
            "asset_tags": ", ".join(filters.get("asset_tags") or []),
            "exclude": ", ".join(filters.get("exclude") or []),
        }

    def values(self) -> dict[str, Any]:
        """The posted filters as the services take them (validated there)."""
        field = self.fields["events"]
        chosen = field.widget.value_from_datadict(self.data, self.files, self.add_prefix("events")) or []
        other = _split_list(self.data.get(self.add_prefix("events_other"), ""))
        events = list(dict.fromkeys([*chosen, *other]))
        out: dict[str, Any] = {}
        if events:
            out["events"] = events
        for key in ("exclude", "asset_tags"):
            items = _split_list(self.data.get(self.add_prefix(key), ""))
            if items:
                out[key] = items
        severity = self.data.get(self.add_prefix("min_severity"), "")
        if severity:
            out["min_severity"] = severity
        return out


def apply_errors(
    errors: Mapping[str, str], *, main: forms.Form, config: ConfigFieldsForm | None, filters: FiltersForm
) -> list[str]:
    """Put service errors on the right form field; returns the ones no field shows."""
    leftover: list[str] = []
    targets = {"events": "events_other"}
    for key, message in errors.items():
        head, _, rest = key.partition(".")
        if head == "config" and config is not None:
            if rest in config.fields:
                config.add_error(rest, message)
            else:
                config.add_error(None, f"{rest}: {message}" if rest else message)
        elif head == "filters" and rest:
            name = targets.get(rest, rest)
            if name in filters.fields:
                filters.add_error(name, message)
            else:
                leftover.append(f"{key}: {message}")
        elif key in main.fields:
            main.add_error(key, message)
        else:
            leftover.append(f"{key}: {message}")
    return leftover


def type_choices() -> list[tuple[str, str]]:
    """Every registered destination type, labelled; retired ones say so."""
    return [(t, c.label + (" — retired" if c.deprecated else "")) for t, c in CONNECTORS.items()]
