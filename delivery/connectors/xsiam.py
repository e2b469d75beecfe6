"""Palo Alto Networks Cortex XSIAM (and XDR) HTTP log collector.

Docs: docs-cortex.paloaltonetworks.com "Set up an HTTP log collector to receive logs", "Success
and failure code responses to your HTTP POST requests", "Get Started with Cortex XDR APIs"
(auth); demisto/content ``CortexXDRIR.py`` ``create_auth`` for the advanced key scheme
(WIRE-FORMATS.md §6).

- ``POST {url}`` (the collector URL from the XSIAM console, ``https://api-<tenant>/logs/v1/event``;
  the path is added when only ``https://host`` is given), ``Content-Type: application/json``,
  ``Content-Encoding: gzip`` when ``compression`` is ``gzip``: the collector is created either
  compressed or not, and the sender must match it.
- Auth, ``auth_mode``:
  - ``standard``: ``Authorization: <api_key>`` sent as is (collector keys are raw, no scheme),
    plus ``x-xdr-auth-id`` when ``api_key_id`` is set;
  - ``advanced``: ``nonce`` = 64 random ``[A-Za-z0-9]``, ``timestamp`` = epoch milliseconds
    (whole seconds × 1000, as Palo Alto's sample), ``Authorization = sha256_hex(api_key + nonce
    + timestamp)`` — a plain SHA-256 of the concatenation, not an HMAC, key id not hashed — with
    ``x-xdr-auth-id``, ``x-xdr-nonce``, ``x-xdr-timestamp``. Each request gets its own nonce;
    ``clock`` and ``nonce_source`` are overridable for tests. The collector rejects a timestamp
    too far from its clock ("API request Unauthorized" when "the client clock is not in sync").
- Body: one JSON object per line: the native envelope (``id``, ``event``, ``timestamp``,
  ``severity``, ``org_id``, ``asset``, ``data``), ``log_type`` and ``dataset`` when configured
  (for parsing rules and XQL; the dataset itself is ``<vendor>_<product>_raw`` as set on the
  collector), and ``raw_ocsf``: the whole event in OCSF 1.1.0.
- Limits: 25 MB per request (413 above). Batches stop at 5 MB of uncompressed JSON and 1000
  events: a fifth of the limit, whichever way the collector measures, and quick to retry.
  A collector takes up to 80,000 events/s.
- Answers: 200 ``{"ok": "true"}``; 401 ``{"error": "Failed to validate authentication
  detail"}`` and 403 retried as configuration errors; 400 and 413 dead and splittable; 429
  (ingestion limits) and 500 retried.
"""

from __future__ import annotations

import hashlib
import secrets as random_source
import string
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django import forms

from delivery.connectors._http_common import (
    gzip_body,
    header_safe,
    json_line,
    json_or_none,
    one_line,
    safe_detail,
    secret_values,
    with_default_path,
)
from delivery.connectors.base import (
    Connector,
    HttpConfigForm,
    Limits,
    OutboundRequest,
    SendResult,
    TransportResponse,
    chunk_encoded,
    classify_http,
)
from delivery.connectors.fields import UrlField
from delivery.formats.native import to_native
from delivery.formats.schema import render

COLLECTOR_PATH = "/logs/v1/event"
NONCE_ALPHABET = string.ascii_letters + string.digits


def random_nonce() -> str:
    """64 characters from [A-Za-z0-9], from the OS's CSPRNG."""
    return "".join(random_source.choice(NONCE_ALPHABET) for _ in range(64))


def advanced_auth(api_key: str, nonce: str, timestamp_ms: str) -> str:
    """The advanced key's Authorization value: hex SHA-256 of key + nonce + timestamp."""
    return hashlib.sha256(f"{api_key}{nonce}{timestamp_ms}".encode()).hexdigest()


class XsiamForm(HttpConfigForm):
    url = UrlField(help_text="HTTP collector URL from the XSIAM console, e.g. https://api-acme.xdr.us.paloaltonetworks.com/logs/v1/event")
    api_key = forms.CharField(help_text="The collector's API key. Stored encrypted.")
    api_key_id = forms.CharField(required=False, help_text="API key ID (needed for advanced keys).")
    auth_mode = forms.ChoiceField(
        choices=[("standard", "Standard (key sent as is)"), ("advanced", "Advanced (nonce + timestamp + SHA-256)")],
        required=False,
        initial="standard",
    )
    log_type = forms.CharField(required=False, help_text="Written into each log line as log_type.")
    dataset = forms.CharField(required=False, help_text="Written into each log line as dataset.")
    compression = forms.ChoiceField(
        choices=[("gzip", "gzip"), ("none", "None")],
        required=False,
        initial="gzip",
        help_text="Must match the collector's Compression setting.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["auth_mode"] = data.get("auth_mode") or "standard"
        data["compression"] = data.get("compression") or "gzip"
        key_id = (data.get("api_key_id") or "").strip()
        data["api_key_id"] = key_id
        if data["auth_mode"] == "advanced" and not key_id:
            self.add_error("api_key_id", "Advanced keys need the API key ID.")
        if key_id and not key_id.isdigit():
            self.add_error("api_key_id", "The API key ID is a number, as shown in the API Keys table.")
        if not header_safe(data.get("api_key") or ""):
            self.add_error("api_key", "Must not contain CR, LF or NUL characters.")
        return data


class XsiamConnector(Connector):
    """Cortex XSIAM / XDR custom HTTP collector, JSON log format."""

    type = "xsiam"
    label = "Cortex XSIAM"
    config_form = XsiamForm
    secret_fields = ("api_key",)
    limits = Limits(max_events=1000, max_bytes=5_000_000, timeout_s=30.0)
    example_url = "https://api-<tenant>.xdr.<region>.paloaltonetworks.com/logs/v1/event"
    clock: Callable[[], float] = staticmethod(time.time)
    nonce_source: Callable[[], str] = staticmethod(random_nonce)

    @property
    def gzip(self) -> bool:
        return (self.config.get("compression") or "gzip") == "gzip"

    def line(self, event: Mapping[str, Any]) -> bytes:
        record = to_native(event)
        for key in ("log_type", "dataset"):
            if self.config.get(key):
                record[key] = self.config[key]
        record["raw_ocsf"] = render(event, "ocsf")
        return json_line(record)

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.gzip:
            headers["Content-Encoding"] = "gzip"
        api_key = str(self.secrets.get("api_key", ""))
        key_id = str(self.config.get("api_key_id") or "")
        if (self.config.get("auth_mode") or "standard") == "advanced":
            nonce = self.nonce_source()
            timestamp = str(int(self.clock()) * 1000)
            headers.update(
                {
                    "x-xdr-timestamp": timestamp,
                    "x-xdr-nonce": nonce,
                    "x-xdr-auth-id": key_id,
                    "Authorization": advanced_auth(api_key, nonce, timestamp),
                }
            )
        else:
            headers["Authorization"] = api_key
            if key_id:
                headers["x-xdr-auth-id"] = key_id
        return headers

    def build_requests(self, events: Sequence[Mapping[str, Any]]) -> list[OutboundRequest]:
        encoded = [(str(e["id"]), self.line(e)) for e in events]
        url = with_default_path(self.config["url"], COLLECTOR_PATH)
        requests = []
        for group in chunk_encoded(encoded, max_events=self.limits.max_events, max_bytes=self.limits.max_bytes, separator=1):
            body = b"\n".join(line for _, line in group)
            requests.append(
                OutboundRequest(
                    body=gzip_body(body) if self.gzip else body,
                    headers=self._headers(),  # a fresh nonce per request
                    url=url,
                    event_ids=tuple(eid for eid, _ in group),
                )
            )
        return requests

    def parse_response(self, request: OutboundRequest, response: TransportResponse) -> SendResult:
        outcome, splittable = classify_http(response)
        return self.result(response, outcome, splittable)

    def describe_error(self, response: TransportResponse) -> str:
        code = response.status_code
        if code is None:
            return safe_detail(super().describe_error(response), secret_values(self.secrets))
        answer = json_or_none(response.body)
        remote = answer.get("error") or answer.get("message") if isinstance(answer, dict) else None
        if not remote and response.body and answer is None:
            remote = response.body.decode("utf-8", "replace")
        mode = self.config.get("auth_mode") or "standard"
        hint = {
            400: "Cortex XSIAM could not process the logs: check that compression and the log format (JSON) match the collector",
            401: "Cortex XSIAM rejected the API key: check api_key"
            + (", api_key_id and this server's clock (advanced key)" if mode == "advanced" else " (the collector's key)"),
            403: "Cortex XSIAM refused the request (forbidden): check the key's role and that the collector is enabled",
            413: "the request is over the collector's 25 MB limit",
            429: "Cortex XSIAM ingestion limit reached",
        }.get(code, "Cortex XSIAM error" if code >= 500 else "Cortex XSIAM refused the logs")
        text = f"HTTP {code}: {hint}" + (f" ({one_line(remote, 100)})" if remote else "")
        return safe_detail(text, secret_values(self.secrets))
