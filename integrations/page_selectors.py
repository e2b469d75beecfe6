"""Reads for the Settings → SIEM pages that the shared selectors do not cover.

Everything here is read-only and side-effect free: the list cards, the recent events behind
the "would this event match?" check, the masked payload preview, and the audit diff rows.
"""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson
from django.utils import timezone

from delivery import selectors as delivery_selectors
from delivery.connectors import CONNECTORS
from delivery.connectors.base import Connector
from delivery.filters import event_matches, explain_mismatch
from delivery.formats.timefmt import iso_utc
from delivery.models import Event
from integrations.forms import KNOWN_EVENT_TYPES, nice_label
from integrations.models import Integration
from siemhub.redaction import REDACTED, SENSITIVE_KEY, scrub


@dataclass
class IntegrationCard:
    """What one list card shows about an integration."""

    integration: Integration
    connector: type[Connector] | None
    pending: int
    histogram: list[dict[str, Any]]
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.connector.label if self.connector else self.integration.integration_type

    @property
    def deprecated(self) -> str:
        return self.connector.deprecated if self.connector else ""


def _totals(histogram: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    totals = {"delivered": 0, "failed": 0, "dead": 0}
    for bucket in histogram:
        for key in totals:
            totals[key] += int(bucket.get(key, 0))
    return totals


def integration_card(integration: Integration, *, pending: int | None = None) -> IntegrationCard:
    histogram = delivery_selectors.attempt_histogram(integration.pk)
    if pending is None:
        pending = delivery_selectors.pending_count(integration.pk)
    return IntegrationCard(integration, CONNECTORS.get(integration.integration_type), pending, histogram,
                           _totals(histogram))


def integration_cards(integrations: Iterable[Integration]) -> list[IntegrationCard]:
    pending = delivery_selectors.pending_counts()
    return [integration_card(i, pending=pending.get(str(i.pk), 0)) for i in integrations]


def recent_events(limit: int = 20) -> list[dict[str, Any]]:
    """The newest events siemhub accepted, as canonical dicts (for the filter check)."""
    return [e.as_dict() for e in Event.objects.order_by("-received_at")[:limit]]


def known_event_types(limit: int = 200) -> list[str]:
    """Well-known types plus every type seen recently, for the event-type picker."""
    seen = Event.objects.order_by().values_list("type", flat=True).distinct()[:limit]
    return list(dict.fromkeys([*KNOWN_EVENT_TYPES, *sorted(seen)]))


def filter_check(filters: Mapping[str, Any], events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Would each event reach an integration with ``filters``? Uses the engine's own matcher."""
    rows = []
    for event in events:
        asset = event.get("asset") or {}
        rows.append({
            "id": str(event.get("id", "")),
            "type": event.get("type", ""),
            "severity": event.get("severity") or "info",
            "timestamp": event.get("timestamp", ""),
            "asset": asset.get("name") or asset.get("id") or "",
            "tags": list(asset.get("tags") or []),
            "matches": event_matches(filters, event),
            "reason": explain_mismatch(filters, event),
        })
    return rows


def sample_event() -> dict[str, Any]:
    """A representative event for the payload preview: a new finding on a tagged asset."""
    return {
        "id": str(uuid.UUID("5f0c6b1e-8d2a-4c3e-9b7a-1d2e3f405162")),
        "type": "finding.new",
        "timestamp": iso_utc(timezone.now().replace(microsecond=0)),
        "severity": "high",
        "org_id": "acme",
        "asset": {"id": "asset-42", "name": "web-01.prod.example.com", "type": "host", "tags": ["prod", "pci"]},
        "data": {"title": "Outdated OpenSSL on web-01", "cve": "CVE-2024-12345", "cvss": 8.1,
                 "finding_id": "F-1024", "url": "https://console.example.com/findings/F-1024"},
    }


def _mask_header(name: str, value: str, secrets: list[Any]) -> str:
    """Header value with secrets removed; credential-bearing headers keep only their scheme."""
    if SENSITIVE_KEY.search(name):
        scheme, _, rest = value.partition(" ")
        return f"{scheme} {REDACTED}" if rest and scheme.isalpha() and len(scheme) <= 12 else REDACTED
    return scrub(value, secrets)


def _mask_url(url: str, secrets: list[Any]) -> str:
    """The URL with secrets removed; when the whole URL is the credential (Sumo Logic's HTTP
    Source), its scheme and host stay visible, since only the path is secret."""
    masked = scrub(url, secrets)
    if masked == REDACTED and url:
        parts = urlsplit(url)
        if parts.scheme and parts.hostname:
            return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}/{REDACTED}"
    return masked


def _body_text(body: bytes, headers: Mapping[str, str]) -> tuple[str, str]:
    """(text, note): gunzip compressed bodies so the preview shows what the SIEM will parse."""
    encoding = next((v for k, v in headers.items() if k.lower() == "content-encoding"), "")
    note = ""
    if encoding.lower() == "gzip":
        try:
            body = gzip.decompress(body)
            note = "gzip-compressed on the wire; shown decompressed"
        except OSError:
            return f"<{len(body)} bytes of binary data>", ""
    # Byte for byte, never re-formatted: re-serializing JSON would change how numbers such as
    # Splunk's ``"time":1717171717.123`` are written, and the preview promises the real bytes.
    return body.decode("utf-8", "replace"), note


def payload_preview(
    connector_class: type[Connector], *, config: Mapping[str, Any], secrets: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Exactly what ``build_requests`` would send for :func:`sample_event`, secrets masked.

    Pure: no network. Headers added at send time (an OAuth token) are not shown.
    """
    secret_values = [v for v in secrets.values() if v]
    connector = connector_class(config=config, secrets=secrets)
    # Connectors that fetch a token before sending (Sentinel's OAuth) add it at send time.
    token_note = "an access token is added at send time" \
        if connector_class.authenticate is not Connector.authenticate else ""
    out = []
    for request in connector.build_requests([sample_event()]):
        headers = [(k, _mask_header(k, str(v), secret_values)) for k, v in request.headers.items()]
        if request.frames:
            body = "\n".join(f.decode("utf-8", "replace").rstrip("\n") for f in request.frames)
            note = f"{len(request.frames)} syslog frame(s)"
        else:
            body, note = _body_text(request.body, request.headers)
        out.append({
            "method": request.method if request.url else "",
            "url": _mask_url(request.url, secret_values),
            "headers": headers,
            "body": scrub(body, secret_values),
            "bytes": len(request.body) or sum(len(f) for f in request.frames),
            "note": " · ".join(n for n in (note, token_note) if n),
        })
    return out


def _short(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def audit_diff_rows(changes: Any, prefix: str = "") -> list[dict[str, str]]:
    """Flatten an audit ``changes`` object into ``{path, old, new}`` rows (already redacted).

    ``{"old": x, "new": y}`` pairs become one row each (nested dicts are compared key by key,
    so a config change shows only the keys that changed); plain values show as ``new``.
    """
    rows: list[dict[str, str]] = []
    if not isinstance(changes, Mapping):
        return [{"path": prefix or "value", "old": "", "new": _short(changes)}]
    for key, value in changes.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and set(value) == {"old", "new"}:
            old, new = value["old"], value["new"]
            if isinstance(old, Mapping) and isinstance(new, Mapping):
                for sub in sorted(set(old) | set(new)):
                    if old.get(sub) != new.get(sub):
                        rows.append({"path": f"{path}.{sub}", "old": _short(old.get(sub)) if sub in old else "",
                                     "new": _short(new.get(sub)) if sub in new else ""})
            else:
                rows.append({"path": path, "old": _short(old), "new": _short(new)})
        elif isinstance(value, Mapping) and value:
            rows.extend(audit_diff_rows(value, path))
        else:
            rows.append({"path": path, "old": "", "new": _short(value)})
    return rows


def config_display(integration: Integration) -> list[dict[str, Any]]:
    """The integration's settings as label/value rows; secrets only say whether they are set."""
    connector = CONNECTORS.get(integration.integration_type)
    if connector is None:
        return [{"label": k, "value": _short(v), "secret": False} for k, v in integration.config.items()]
    stored = integration.get_secrets()
    rows = []
    for name, form_field in connector.config_form.base_fields.items():
        label = form_field.label or nice_label(name)
        if name in connector.secret_fields:
            rows.append({"label": label, "name": name, "value": "set" if name in stored else "not set", "secret": True})
        elif name in integration.config:
            rows.append({"label": label, "name": name, "value": _short(integration.config[name]), "secret": False})
    return rows
