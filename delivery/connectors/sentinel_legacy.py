"""Microsoft Sentinel / Log Analytics through the HTTP Data Collector API (retired 2026-09-14).

Docs: https://learn.microsoft.com/azure/azure-monitor/logs/data-collector-api
(MicrosoftDocs/azure-docs articles/azure-monitor/logs/data-collector-api.md, WIRE-FORMATS.md §3a).
Kept for workspaces that still accept it; new setups use the ``sentinel`` type.

- ``POST https://{workspace_id}.ods.opinsights.azure.com/api/logs?api-version=2016-04-01``
  (``endpoint`` replaces the base URL), ``Content-Type: application/json``, ``Log-Type``
  (letters, digits, ``_``, at most 100; Azure appends ``_CL``), ``x-ms-date`` (RFC 1123),
  ``time-generated-field: EventTime``.
- ``Authorization: SharedKey {workspace_id}:{base64(HMAC-SHA256(base64decode(shared_key),
  "POST\\n{Content-Length}\\napplication/json\\nx-ms-date:{date}\\n/api/logs"))}`` where
  Content-Length is the body's length in *bytes* (the PowerShell sample's character count is
  wrong for non-ASCII text). The date comes from ``clock`` (overridable for tests); a batch is
  signed when built, and the engine builds every attempt afresh.
- Body: a JSON array of flat records. ``TimeGenerated``, ``tenant`` and ``RawData`` are reserved,
  so the event time is ``EventTime`` (named by ``time-generated-field``). Nested values
  (``Data``, ``AssetTags``, ``RawOCSF``) are sent as JSON strings: they land in ``*_s`` columns.
  Azure truncates field values over 32 KB.
- Limits: 30 MB per post; we cut at 5 MB and 1000 records so a post stays well inside the
  timeout. Answers: 200 accepted; 400 with an ``Error`` code (``InvalidDataFormat`` is the data:
  dead and splittable; the others are configuration: retried); 403 ``InvalidAuthorization``
  (wrong key, or the clock is off); 429/500/503 retried.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping, Sequence
from email.utils import formatdate
from typing import Any

from django import forms

from delivery.connectors._http_common import json_or_none, one_line, safe_detail, secret_values, with_default_path
from delivery.connectors.base import (
    Connector,
    HttpConfigForm,
    Limits,
    OutboundRequest,
    Outcome,
    SendResult,
    TransportResponse,
    chunk_encoded,
    classify_http,
)
from delivery.connectors.fields import GUID, UrlField
from delivery.formats.jsonenc import dumps, dumps_str
from delivery.formats.schema import render
from delivery.formats.timefmt import epoch_ms, parse_iso

API_PATH = "/api/logs"
API_VERSION = "2016-04-01"
TIME_FIELD = "EventTime"
_LOG_TYPE = re.compile(r"^[A-Za-z0-9_]{1,100}$")
ERROR_HINTS: dict[str, str] = {
    "InvalidAuthorization": "Azure refused the SharedKey signature: check workspace_id and shared_key (primary or secondary key) and the server clock",
    "InactiveCustomer": "the workspace is deleted or inactive",
    "InvalidCustomerId": "the workspace_id is not a Log Analytics workspace ID",
    "InvalidLogType": "log_type may only hold letters, digits and underscores",
    "InvalidDataFormat": "Azure could not read a record",
}


class SentinelLegacyForm(HttpConfigForm):
    workspace_id = forms.CharField(help_text="Log Analytics workspace ID (a GUID).")
    shared_key = forms.CharField(help_text="Workspace primary or secondary key. Stored encrypted.")
    log_type = forms.CharField(required=False, initial="SiemhubEvents", help_text="Custom log name; Azure adds _CL.")
    endpoint = UrlField(required=False, help_text="Override the base URL (default https://{workspace_id}.ods.opinsights.azure.com).")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["log_type"] = data.get("log_type") or "SiemhubEvents"
        if not _LOG_TYPE.match(data["log_type"]):
            self.add_error("log_type", "Letters, digits and underscores only, at most 100 characters.")
        if data.get("workspace_id") and not GUID.match(data["workspace_id"].strip()):
            self.add_error("workspace_id", "Expected the workspace ID, a GUID.")
        if data.get("shared_key"):
            try:
                base64.b64decode(data["shared_key"].strip(), validate=True)
            except (binascii.Error, ValueError):
                self.add_error("shared_key", "The workspace key is base64 text, as shown in the Azure portal.")
        return data


def shared_key_signature(shared_key: str, content_length: int, date: str) -> str:
    """Base64 HMAC-SHA256 of the documented string-to-sign, keyed with the decoded key."""
    to_sign = f"POST\n{content_length}\napplication/json\nx-ms-date:{date}\n{API_PATH}"
    key = base64.b64decode(shared_key.strip())
    return base64.b64encode(hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).digest()).decode()


class SentinelLegacyConnector(Connector):
    """Log Analytics custom log ``{log_type}_CL`` through the HTTP Data Collector API."""

    type = "sentinel_legacy"
    label = "Microsoft Sentinel (legacy Data Collector API)"
    config_form = SentinelLegacyForm
    secret_fields = ("shared_key",)
    limits = Limits(max_events=1000, max_bytes=5_000_000, timeout_s=30.0)
    example_url = "https://{workspace_id}.ods.opinsights.azure.com"
    deprecated = "Microsoft retired the HTTP Data Collector API on 2026-09-14; use the sentinel (Logs Ingestion API) type."
    clock: Callable[[], float] = staticmethod(time.time)

    def _url(self) -> str:
        base = self.config.get("endpoint") or f"https://{str(self.config['workspace_id']).strip()}.ods.opinsights.azure.com"
        return with_default_path(base, API_PATH) + f"?api-version={API_VERSION}"

    @staticmethod
    def record(event: Mapping[str, Any]) -> dict[str, Any]:
        asset = event.get("asset") or {}
        ms = epoch_ms(event["timestamp"])
        moment = parse_iso(event["timestamp"])
        return {
            TIME_FIELD: moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z",
            "EventId": str(event["id"]),
            "EventType": event["type"],
            "Severity": event.get("severity") or "info",
            "OrgId": event.get("org_id") or "",
            "AssetId": str(asset.get("id") or ""),
            "AssetName": str(asset.get("name") or ""),
            "AssetType": str(asset.get("type") or ""),
            "AssetTags": dumps_str(list(asset.get("tags") or [])),
            "Data": dumps_str(event.get("data") or {}),
            "RawOCSF": dumps_str(render(event, "ocsf")),
        }

    def build_requests(self, events: Sequence[Mapping[str, Any]]) -> list[OutboundRequest]:
        encoded = [(str(e["id"]), dumps(self.record(e))) for e in events]
        url = self._url()
        workspace = str(self.config["workspace_id"]).strip()
        log_type = self.config.get("log_type") or "SiemhubEvents"
        date = formatdate(self.clock(), usegmt=True)  # RFC 1123: "Mon, 04 Apr 2016 08:00:00 GMT"
        requests = []
        for group in chunk_encoded(
            encoded, max_events=self.limits.max_events, max_bytes=self.limits.max_bytes, overhead=2, separator=1
        ):
            body = b"[" + b",".join(b for _, b in group) + b"]"
            signature = shared_key_signature(self.secrets.get("shared_key", ""), len(body), date)
            headers = {
                "Content-Type": "application/json",
                "Log-Type": log_type,
                "x-ms-date": date,
                "time-generated-field": TIME_FIELD,
                "Authorization": f"SharedKey {workspace}:{signature}",
            }
            requests.append(OutboundRequest(body=body, headers=headers, url=url, event_ids=tuple(i for i, _ in group)))
        return requests

    def parse_response(self, request: OutboundRequest, response: TransportResponse) -> SendResult:
        outcome, splittable = classify_http(response)
        code = _error_code(response.body)
        if response.status_code == 400 and code != "InvalidDataFormat":
            outcome, splittable = Outcome.RETRY, False  # configuration, not data: dead-lettering would not help
        return self.result(response, outcome, splittable)

    def describe_error(self, response: TransportResponse) -> str:
        answer = json_or_none(response.body)
        if response.status_code is None or not isinstance(answer, dict) or "Error" not in answer:
            return safe_detail(super().describe_error(response), secret_values(self.secrets))
        code = str(answer.get("Error"))
        hint = ERROR_HINTS.get(code, "Azure rejected the request")
        text = f"HTTP {response.status_code} {code}: {hint} ({one_line(answer.get('Message', ''), 120)})"
        return safe_detail(text, secret_values(self.secrets))


def _error_code(body: bytes) -> str:
    answer = json_or_none(body)
    return str(answer.get("Error", "")) if isinstance(answer, dict) else ""
