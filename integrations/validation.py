"""Validate an integration's type, config and filters with its connector's own form.

One rule set for the REST API, the Settings → SIEM pages and the Django admin. Input is JSON
(``config`` holds secrets too, as DESIGN.md §4 lists them); the result splits them apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django import forms

from delivery.connectors import CONNECTORS, get_connector
from delivery.connectors.fields import HeadersField
from delivery.filters import validate_filters


class IntegrationValidationError(ValueError):
    """Bad input; ``errors`` maps a field path (``config.endpoint``) to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class CleanIntegration:
    config: dict[str, Any]
    secrets: dict[str, Any]
    filters: dict[str, Any]


def _type_problem(field: forms.Field, value: Any) -> str:
    """JSON type checks Django forms do not make (they would turn a list into its str())."""
    if value is None:
        return ""
    if isinstance(field, HeadersField):
        return "" if isinstance(value, (dict, str)) else "must be an object of header name → value"
    if isinstance(field, forms.BooleanField):
        return "" if isinstance(value, bool) else "must be true or false"
    if isinstance(field, (forms.IntegerField, forms.FloatField)):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return "" if ok or (isinstance(value, str) and value.strip()) else "must be a number"
    if isinstance(field, (forms.CharField, forms.ChoiceField)):
        return "" if isinstance(value, (str, int, float)) and not isinstance(value, bool) else "must be a string"
    return ""


def integration_type_check(integration_type: Any) -> None:
    if not isinstance(integration_type, str) or integration_type not in CONNECTORS:
        raise IntegrationValidationError(
            {"integration_type": f"unknown integration_type; use one of: {', '.join(sorted(CONNECTORS))}"}
        )


def integration_clean(
    *,
    integration_type: str,
    config: Any,
    filters: Any,
    existing_secrets: Mapping[str, Any] | None = None,
) -> CleanIntegration:
    """Validate ``config`` (secrets included) and ``filters``; omitted secrets keep
    ``existing_secrets``; a secret given as null is cleared."""
    integration_type_check(integration_type)
    connector = get_connector(integration_type)
    errors: dict[str, str] = {}
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        raise IntegrationValidationError({"config": "must be an object"})
    form_class = connector.config_form
    fields = form_class.base_fields
    for key in config:
        if key not in fields:
            errors[f"config.{key}"] = f"unknown setting for {integration_type}"
    data: dict[str, Any] = {}
    for name, field in fields.items():
        if name in config:
            value = config[name]
            problem = _type_problem(field, value)
            if problem:
                errors[f"config.{name}"] = problem
                continue
            if name in connector.secret_fields and value in ("",) and existing_secrets and name in existing_secrets:
                value = existing_secrets[name]  # a blank secret field means "keep"
            data[name] = value
        elif name in connector.secret_fields and existing_secrets and name in existing_secrets:
            data[name] = existing_secrets[name]
        elif isinstance(field, forms.BooleanField) and field.initial is not None:
            data[name] = field.initial
    form = form_class(data=data)
    if not form.is_valid():
        for name, messages in form.errors.items():
            key = f"config.{name}" if name != "__all__" else "config"
            errors.setdefault(key, " ".join(str(m) for m in messages))
    clean_filters, filter_errors = validate_filters(filters)
    errors.update(filter_errors)
    if errors:
        raise IntegrationValidationError(errors)
    cleaned = form.cleaned_data
    secrets = {k: cleaned[k] for k in connector.secret_fields if cleaned.get(k) not in (None, "", {}, [])}
    clean_config = {
        k: v for k, v in cleaned.items() if k not in connector.secret_fields and v not in (None, "")
    }
    return CleanIntegration(config=clean_config, secrets=secrets, filters=clean_filters)
