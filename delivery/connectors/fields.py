"""Form fields and checks shared by connector config forms."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django import forms

_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")  # Azure tenant / client / workspace ids


def validate_http_url(value: str) -> str:
    """An absolute http(s) URL with a host; no whitespace or control characters."""
    value = (value or "").strip()
    if not value:
        raise forms.ValidationError("This field is required.")
    if any(ch in value for ch in "\r\n\t ") or any(ord(ch) < 32 for ch in value):
        raise forms.ValidationError("The URL must not contain spaces or control characters.")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise forms.ValidationError("Enter a full URL starting with https:// (or http://).")
    try:
        parts.port
    except ValueError as exc:
        raise forms.ValidationError("The URL has an invalid port.") from exc
    return value


class UrlField(forms.CharField):
    """A destination URL (http or https)."""

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if not value and not self.required:
            return ""
        return validate_http_url(value)


def validate_header_name(name: str) -> str:
    if not name or not _HEADER_NAME.match(name):
        raise forms.ValidationError(f"{name!r} is not a valid HTTP header name.")
    return name


def validate_header_value(value: str, *, label: str = "Header value") -> str:
    if not isinstance(value, str):
        raise forms.ValidationError(f"{label} must be a string.")
    if "\r" in value or "\n" in value or "\x00" in value:
        raise forms.ValidationError(f"{label} must not contain CR, LF or NUL characters.")
    return value


class HeadersField(forms.Field):
    """A JSON object of header name → value (or a list of ``Name: value`` lines in forms)."""

    def to_python(self, value: Any) -> dict[str, str]:
        if value in (None, "", {}):
            return {}
        if isinstance(value, str):
            parsed: dict[str, str] = {}
            for line in value.splitlines():
                if not line.strip():
                    continue
                if ":" not in line:
                    raise forms.ValidationError(f"Write each header as 'Name: value' (got {line.strip()[:40]!r}).")
                name, _, val = line.partition(":")
                parsed[name.strip()] = val.strip()
            value = parsed
        if not isinstance(value, dict):
            raise forms.ValidationError("Headers must be an object of name → value.")
        out = {}
        for name, val in value.items():
            validate_header_name(str(name))
            out[str(name)] = validate_header_value(val, label=f"Value of header {name}")
        return out


class PemField(forms.CharField):
    """PEM text pasted as is (certificate or key)."""

    def __init__(self, *, marker: str = "-----BEGIN", **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 4}))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.marker = marker

    def clean(self, value: Any) -> str:
        value = (super().clean(value) or "").strip()
        if value and self.marker not in value:
            raise forms.ValidationError("Paste the PEM text, including its -----BEGIN ...----- line.")
        return value
