"""Generic signed webhook.

Body (``transform``): ``native`` / ``ocsf`` → a JSON array of events; ``splunk_hec`` →
concatenated HEC envelopes; ``elasticsearch`` → Bulk API NDJSON (``create`` with ``_id`` = event
id). Up to ``max_events`` events per request (default 100; 1 sends one event per request).

Signatures (``signature``):
- ``hmac-sha256``: ``<signature_header>: sha256=<hex HMAC-SHA256(secret, body)>`` (the GitHub
  scheme; header name default ``X-Siemhub-Signature``). The secret is used as UTF-8 text.
- ``standard-webhooks`` (https://www.standardwebhooks.com, spec v1.0.0): ``webhook-id``,
  ``webhook-timestamp`` (Unix seconds of this attempt) and ``webhook-signature: v1,<base64
  HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``; a ``whsec_`` secret is base64-decoded to get
  the key. Several secrets separated by spaces are all used (zero-downtime rotation).
- ``none``.

Every request also carries ``webhook-id`` (stable across retries of the same events: the event
id for a single event) so receivers can deduplicate, plus ``X-Siemhub-Event-Count``.
Auth: ``none``, ``basic`` (username + password) or ``header`` (the secret ``headers``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django import forms

from delivery.connectors.base import (
    Connector,
    HttpConfigForm,
    Limits,
    OutboundRequest,
    chunk_encoded,
)
from delivery.connectors.fields import HeadersField, UrlField, validate_header_name
from delivery.formats.jsonenc import dumps
from delivery.formats.schema import render

TRANSFORMS = ("native", "ocsf", "splunk_hec", "elasticsearch")


class WebhookForm(HttpConfigForm):
    endpoint = UrlField(help_text="Receiver URL, e.g. https://hooks.example.com/siem")
    signature = forms.ChoiceField(
        choices=[
            ("hmac-sha256", "HMAC-SHA256 header (sha256=<hex>)"),
            ("standard-webhooks", "Standard Webhooks (webhook-signature v1)"),
            ("none", "No signature"),
        ],
        required=False,
        initial="hmac-sha256",
    )
    signature_header = forms.CharField(required=False, initial="X-Siemhub-Signature")
    secret = forms.CharField(
        required=False,
        help_text="Signing secret (Standard Webhooks: whsec_...). Several, space-separated, during rotation.",
    )
    auth = forms.ChoiceField(
        choices=[("none", "None"), ("basic", "Basic (username + password)"), ("header", "Custom header")],
        required=False,
        initial="none",
    )
    username = forms.CharField(required=False)
    password = forms.CharField(required=False)
    headers = HeadersField(
        required=False,
        help_text="Extra headers, one 'Name: value' per line. Values are stored encrypted (they often hold tokens).",
    )
    transform = forms.ChoiceField(
        choices=[
            ("native", "Native JSON array"),
            ("ocsf", "OCSF JSON array"),
            ("splunk_hec", "Splunk HEC envelopes"),
            ("elasticsearch", "Elasticsearch bulk NDJSON"),
        ],
        required=False,
        initial="native",
    )
    max_events = forms.IntegerField(required=False, min_value=1, max_value=1000, initial=100)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["signature"] = data.get("signature") or "hmac-sha256"
        data["signature_header"] = data.get("signature_header") or "X-Siemhub-Signature"
        data["auth"] = data.get("auth") or "none"
        data["transform"] = data.get("transform") or "native"
        data["max_events"] = data.get("max_events") or 100
        try:
            validate_header_name(data["signature_header"])
        except forms.ValidationError as exc:
            self.add_error("signature_header", exc)
        if data["signature"] != "none" and not data.get("secret"):
            self.add_error("secret", "A signing secret is required for this signature scheme.")
        if data["signature"] == "standard-webhooks" and data.get("secret"):
            for part in data["secret"].split():
                if part.startswith("whsec_") and _decode_whsec(part) is None:
                    self.add_error("secret", "A whsec_ secret must be base64 after the prefix.")
        if data["auth"] == "basic" and not (data.get("username") and data.get("password")):
            self.add_error("password" if data.get("username") else "username", "Basic auth needs a username and a password.")
        if data["auth"] == "header" and not data.get("headers"):
            self.add_error("headers", "Header auth needs at least one header, e.g. 'Authorization: Bearer ...'.")
        for field in ("secret", "password", "username"):
            value = data.get(field) or ""
            if any(ch in value for ch in "\r\n\x00"):
                self.add_error(field, "Must not contain CR, LF or NUL characters.")
        return data


def _decode_whsec(secret: str) -> bytes | None:
    raw = secret[len("whsec_") :]
    try:
        return base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def signing_keys(secret: str, scheme: str) -> list[bytes]:
    keys = []
    for part in secret.split() if scheme == "standard-webhooks" else [secret]:
        if scheme == "standard-webhooks" and part.startswith("whsec_"):
            decoded = _decode_whsec(part)
            if decoded is not None:
                keys.append(decoded)
                continue
        keys.append(part.encode("utf-8"))
    return keys


class WebhookConnector(Connector):
    """Any HTTPS receiver; signed so it can prove the body came from siemhub."""

    type = "webhook"
    label = "Generic webhook"
    config_form = WebhookForm
    secret_fields = ("secret", "password", "headers")
    limits = Limits(max_events=100, max_bytes=1_000_000, timeout_s=15.0)
    example_url = "https://hooks.example.com/siem"
    clock: Callable[[], float] = staticmethod(time.time)

    def _encode(self, event: Mapping[str, Any]) -> bytes:
        transform = self.config.get("transform") or "native"
        if transform == "splunk_hec":
            from delivery.formats.timefmt import epoch_seconds_text

            inner = dumps({"sourcetype": "_json", "event": render(event, self.config.get("schema"))})
            return b'{"time":' + epoch_seconds_text(event["timestamp"]).encode() + b"," + inner[1:]
        if transform == "elasticsearch":
            doc = render(event, self.config.get("schema"))
            doc = {"@timestamp": event["timestamp"], **doc}
            action = dumps({"create": {"_index": self.config.get("index") or "siemhub-events", "_id": str(event["id"])}})
            return action + b"\n" + dumps(doc)
        return dumps(render(event, "ocsf" if transform == "ocsf" else self.config.get("schema")))

    def _frame(self, parts: list[bytes]) -> bytes:
        transform = self.config.get("transform") or "native"
        if transform == "splunk_hec":
            return b"\n".join(parts)
        if transform == "elasticsearch":
            return b"\n".join(parts) + b"\n"
        return b"[" + b",".join(parts) + b"]"

    def _content_type(self) -> str:
        return "application/x-ndjson" if self.config.get("transform") == "elasticsearch" else "application/json"

    def build_requests(self, events: Sequence[Mapping[str, Any]]) -> list[OutboundRequest]:
        encoded = [(str(e["id"]), self._encode(e)) for e in events]
        max_events = int(self.config.get("max_events") or self.limits.max_events)
        groups = chunk_encoded(
            encoded, max_events=max_events, max_bytes=self.limits.max_bytes, overhead=2, separator=1
        )
        requests = []
        for group in groups:
            ids = tuple(eid for eid, _ in group)
            body = self._frame([b for _, b in group])
            requests.append(
                OutboundRequest(body=body, headers=self._headers(ids, body), url=self.config["endpoint"], event_ids=ids)
            )
        return requests

    def _headers(self, ids: tuple[str, ...], body: bytes) -> dict[str, str]:
        message_id = ids[0] if len(ids) == 1 else "batch_" + hashlib.sha256(",".join(ids).encode()).hexdigest()[:32]
        headers: dict[str, str] = {
            "Content-Type": self._content_type(),
            "User-Agent": "siemhub-webhook/1",
            "webhook-id": message_id,
            "X-Siemhub-Event-Count": str(len(ids)),
        }
        scheme = self.config.get("signature") or "hmac-sha256"
        secret = self.secrets.get("secret") or ""
        if scheme == "hmac-sha256" and secret:
            digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
            headers[self.config.get("signature_header") or "X-Siemhub-Signature"] = f"sha256={digest}"
        elif scheme == "standard-webhooks" and secret:
            timestamp = str(int(self.clock()))
            signed = f"{message_id}.{timestamp}.".encode() + body
            signatures = [
                "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
                for key in signing_keys(secret, scheme)
            ]
            headers["webhook-timestamp"] = timestamp
            headers["webhook-signature"] = " ".join(signatures)
        auth = self.config.get("auth") or "none"
        if auth == "basic":
            token = f"{self.config.get('username', '')}:{self.secrets.get('password', '')}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(token).decode()
        extra = self.secrets.get("headers") or {}
        if isinstance(extra, Mapping):
            for name, value in extra.items():
                headers[str(name)] = str(value)
        return headers
