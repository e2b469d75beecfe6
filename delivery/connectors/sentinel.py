"""Microsoft Sentinel through the Azure Monitor Logs Ingestion API (data collection rules).

Docs: https://learn.microsoft.com/azure/azure-monitor/logs/logs-ingestion-api-overview,
service limits https://learn.microsoft.com/azure/azure-monitor/fundamentals/service-limits#logs-ingestion-api,
token flow https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
(facts checked against Azure/azure-sdk-for-python azure-monitor-ingestion, WIRE-FORMATS.md §3b).

- Token: ``POST {authority_host}/{tenant_id}/oauth2/v2.0/token`` (form: client_id,
  client_secret, grant_type=client_credentials, scope=``https://monitor.azure.com//.default``,
  the double slash as the SDK sends it). Cached per (authority, tenant, client id, sha256 of
  the secret) in this process until 5 minutes before it expires; dropped on a 401 answer.
- ``POST {dcr_endpoint}/dataCollectionRules/{dcr_rule_id}/streams/{stream_name}?api-version=2023-01-01``
  with ``Authorization: Bearer``, ``Content-Type: application/json``, ``Content-Encoding: gzip``.
  The body is a JSON array of rows shaped like the DCR's stream declaration (below).
- Limits: 1 MB per call "for both compressed and uncompressed data" (413
  ``ContentLengthLimitExceeded`` above 1,048,576 bytes). We cut batches at 1,000,000 bytes of
  *uncompressed* JSON, so a request fits whether or not the service measures it compressed.
  No documented row-count limit; 1000 rows keeps a call's TimeGenerated range short. Field
  values over 64 KB are truncated by Azure (a huge ``RawOCSF`` would be).
- Answers: 204 = accepted. 429 with ``Retry-After``; 5xx retried; 401 retried with a fresh token;
  403 (app lacks *Monitoring Metrics Publisher* on the DCR) and 404 (wrong DCR id / stream)
  retried as configuration errors; 400/413 dead and splittable. Errors are
  ``{"error":{"code":..,"message":..}}``. The service does not deduplicate: ``EventId`` is there
  to let queries do it.

Custom table and DCR the admin creates (see docs/sentinel.md for the full walk-through):

Table ``SiemhubEvents_CL`` and stream ``Custom-SiemhubEvents`` (``streamDeclarations``), columns:
``TimeGenerated`` datetime, ``EventId`` string, ``EventType`` string, ``Severity`` string,
``OrgId`` string, ``AssetId`` string, ``AssetName`` string, ``AssetType`` string,
``AssetTags`` dynamic, ``Data`` dynamic, ``OcsfClassUid`` int, ``RawOCSF`` string.
``dataFlows``: streams ``["Custom-SiemhubEvents"]``, ``transformKql`` ``source``,
``outputStream`` ``Custom-SiemhubEvents_CL``.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from django import forms

from delivery.connectors._http_common import (
    AuthenticationFailed,
    gzip_body,
    json_or_none,
    one_line,
    safe_detail,
    secret_values,
)
from delivery.connectors.base import (
    Connector,
    HttpConfigForm,
    Limits,
    OutboundRequest,
    Outcome,
    SendResult,
    TransportResponse,
    chunk_encoded,
    json_array,
    requests_for_groups,
    classify_http,
    parse_retry_after,
)
from delivery.connectors.fields import GUID, UrlField
from delivery.formats.jsonenc import dumps, dumps_str
from delivery.formats.schema import render
from delivery.formats.timefmt import iso_utc, parse_iso

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
SCOPE = "https://monitor.azure.com//.default"
API_VERSION = "2023-01-01"
REFRESH_MARGIN_S = 300.0
_STREAM = re.compile(r"^(Custom|Microsoft)-[A-Za-z0-9_]{1,200}$")

# AADSTS codes → what the admin should fix (Microsoft Entra error reference).
AADSTS: dict[str, str] = {
    "7000215": "Azure AD rejected the client secret: use the secret's Value, not its Secret ID",
    "7000222": "the client secret has expired: create a new one in the app registration",
    "700016": "Azure AD does not know this client_id in this tenant",
    "90002": "the tenant_id was not found",
    "900023": "the tenant_id is not a valid tenant identifier",
    "500011": "the Azure Monitor resource was not found in the tenant (scope)",
    "7000218": "no client secret was sent",
}
INGESTION_HINTS: dict[str, str] = {
    "OperationFailed": "the app registration lacks the Monitoring Metrics Publisher role on the DCR",
    "ContentLengthLimitExceeded": "the request is over the 1 MB Logs Ingestion limit",
}

_cache_lock = threading.Lock()
_token_cache: dict[tuple[str, str, str, str], tuple[str, float]] = {}  # key → (token, expires_at)


class SentinelForm(HttpConfigForm):
    tenant_id = forms.CharField(help_text="Directory (tenant) ID of the app registration.")
    client_id = forms.CharField(help_text="Application (client) ID.")
    client_secret = forms.CharField(help_text="Client secret Value (not its ID). Stored encrypted.")
    dcr_endpoint = UrlField(help_text="Logs ingestion endpoint of the DCR or its DCE, e.g. https://my-dce.eastus-1.ingest.monitor.azure.com")
    dcr_rule_id = forms.CharField(help_text="The DCR's immutable ID, dcr-...")
    stream_name = forms.CharField(required=False, initial="Custom-SiemhubEvents")
    authority_host = UrlField(required=False, help_text=f"Token authority (default {DEFAULT_AUTHORITY}).")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["stream_name"] = data.get("stream_name") or "Custom-SiemhubEvents"
        data["authority_host"] = data.get("authority_host") or DEFAULT_AUTHORITY
        for key in ("tenant_id", "client_id"):
            if data.get(key) and not GUID.match(data[key].strip()):
                self.add_error(key, "Expected a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47.")
        if data.get("dcr_rule_id") and not re.match(r"^dcr-[0-9a-fA-F]{32}$", data["dcr_rule_id"].strip()):
            self.add_error("dcr_rule_id", "Expected the DCR immutable ID: dcr- followed by 32 hex digits.")
        if not _STREAM.match(data["stream_name"]):
            self.add_error("stream_name", "Stream names look like Custom-SiemhubEvents.")
        return data


def clear_token_cache() -> None:
    with _cache_lock:
        _token_cache.clear()


class SentinelConnector(Connector):
    """Microsoft Sentinel / Log Analytics custom table through a data collection rule."""

    type = "sentinel"
    label = "Microsoft Sentinel (Logs Ingestion API)"
    config_form = SentinelForm
    secret_fields = ("client_secret",)
    limits = Limits(max_events=1000, max_bytes=1_000_000, timeout_s=30.0)
    example_url = "https://my-dce-abcd.eastus-1.ingest.monitor.azure.com"
    clock: Callable[[], float] = staticmethod(time.time)

    def __init__(self, *, config: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
        super().__init__(config=config, secrets=secrets)
        self._token = ""

    # -- token -----------------------------------------------------------------------------
    @property
    def authority(self) -> str:
        return (self.config.get("authority_host") or DEFAULT_AUTHORITY).rstrip("/")

    def token_url(self) -> str:
        return f"{self.authority}/{quote(str(self.config.get('tenant_id', '')).strip(), safe='')}/oauth2/v2.0/token"

    def _cache_key(self) -> tuple[str, str, str, str]:
        digest = hashlib.sha256(str(self.secrets.get("client_secret", "")).encode()).hexdigest()
        return (self.authority, str(self.config.get("tenant_id", "")), str(self.config.get("client_id", "")), digest)

    def authenticate(self, send: Any) -> None:
        """Use the cached token, or fetch one; raise AuthenticationFailed with a decoded reason."""
        now = self.clock()
        with _cache_lock:
            cached = _token_cache.get(self._cache_key())
        if cached and cached[1] - REFRESH_MARGIN_S > now:
            self._token = cached[0]
            return
        form = urlencode(
            {
                "client_id": self.config.get("client_id", ""),
                "client_secret": self.secrets.get("client_secret", ""),
                "grant_type": "client_credentials",
                "scope": SCOPE,
            }
        ).encode()
        request = OutboundRequest(
            body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            url=self.token_url(),
        )
        response = send(request)
        answer = json_or_none(response.body)
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if response.status_code == 200 and isinstance(token, str) and token:
            try:
                lifetime = float(answer.get("expires_in", 3599))
            except (TypeError, ValueError):
                lifetime = 3599.0
            with _cache_lock:
                _token_cache[self._cache_key()] = (token, now + lifetime)
            self._token = token
            return
        raise AuthenticationFailed(
            SendResult(
                outcome=Outcome.RETRY,  # a fixed secret delivers what waited (classify_http's rule)
                status_code=response.status_code,
                retry_after_s=parse_retry_after(response.headers),
                detail=self._scrub(self._describe_token_error(response, answer)),
            )
        )

    def _describe_token_error(self, response: TransportResponse, answer: Any) -> str:
        host = urlsplit(self.authority).netloc or self.authority
        if response.status_code is None:
            return f"Could not get an Azure AD token from {host}: {response.error or 'no answer'}"
        if isinstance(answer, dict):
            description = str(answer.get("error_description", ""))
            match = re.match(r"AADSTS(\d+)", description)
            if match and match.group(1) in AADSTS:
                return f"Azure AD token request failed (AADSTS{match.group(1)}): {AADSTS[match.group(1)]}"
            first = description.split("\r\n")[0].split("Trace ID:")[0]
            return f"Azure AD token request failed (HTTP {response.status_code} {answer.get('error', '')}): {one_line(first, 160)}"
        return f"Azure AD token request failed: HTTP {response.status_code} from {host}"

    def request_headers(self, request: OutboundRequest) -> Mapping[str, str]:
        if request.url == self.token_url() or not self._token:
            return request.headers  # the token request itself, or no token: the service answers 401
        return {**request.headers, "Authorization": f"Bearer {self._token}"}

    # -- rows ------------------------------------------------------------------------------
    def _url(self) -> str:
        base = str(self.config["dcr_endpoint"]).rstrip("/")
        rule = quote(str(self.config["dcr_rule_id"]).strip(), safe="-")
        stream = quote(self.config.get("stream_name") or "Custom-SiemhubEvents", safe="-_")
        return f"{base}/dataCollectionRules/{rule}/streams/{stream}?api-version={API_VERSION}"

    @staticmethod
    def row(event: Mapping[str, Any]) -> dict[str, Any]:
        """One row of the ``Custom-SiemhubEvents`` stream (column list in the module docstring)."""
        asset = event.get("asset") or {}
        ocsf = render(event, "ocsf")
        return {
            "TimeGenerated": iso_utc(parse_iso(event["timestamp"])),
            "EventId": str(event["id"]),
            "EventType": event["type"],
            "Severity": event.get("severity") or "info",
            "OrgId": event.get("org_id") or "",
            "AssetId": str(asset.get("id") or ""),
            "AssetName": str(asset.get("name") or ""),
            "AssetType": str(asset.get("type") or ""),
            "AssetTags": list(asset.get("tags") or []),
            "Data": event.get("data") or {},
            "OcsfClassUid": ocsf.get("class_uid"),
            "RawOCSF": dumps_str(ocsf),
        }

    def build_requests(self, events: Sequence[Mapping[str, Any]]) -> list[OutboundRequest]:
        encoded = [(str(e["id"]), dumps(self.row(e))) for e in events]
        url = self._url()
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        groups = chunk_encoded(
            encoded, max_events=self.limits.max_events, max_bytes=self.limits.max_bytes, overhead=2, separator=1
        )
        return requests_for_groups(groups, url=url, headers=headers, frame=lambda parts: gzip_body(json_array(parts)))

    # -- answers ---------------------------------------------------------------------------
    def parse_response(self, request: OutboundRequest, response: TransportResponse) -> SendResult:
        outcome, splittable = classify_http(response)
        if response.status_code == 401:
            with _cache_lock:  # the token was revoked or expired early: fetch a new one next time
                _token_cache.pop(self._cache_key(), None)
            self._token = ""
        if response.status_code == 413:
            outcome, splittable = Outcome.DEAD, True
        return self.result(response, outcome, splittable)

    def describe_error(self, response: TransportResponse) -> str:
        code = response.status_code
        answer = json_or_none(response.body)
        error = answer.get("error") if isinstance(answer, dict) else None
        if code is None or not isinstance(error, dict):
            if code == 401:
                return "HTTP 401: Azure Monitor rejected the access token; a new token is fetched on the next attempt"
            return self._scrub(super().describe_error(response))
        err_code = str(error.get("code", ""))
        hint = INGESTION_HINTS.get(err_code) or {
            401: "Azure Monitor rejected the access token; a new token is fetched on the next attempt",
            404: "the DCR immutable ID or the stream name is wrong (or the endpoint is not this DCR's)",
            429: "Azure Monitor is throttling this DCR",
        }.get(code, "Azure Monitor rejected the request")
        return self._scrub(f"HTTP {code} {err_code}: {hint} ({one_line(error.get('message', ''), 150)})")

    def _scrub(self, text: str) -> str:
        return safe_detail(text, [*secret_values(self.secrets), self._token])
