"""Datadog Logs API v2.

Docs: https://docs.datadoghq.com/api/latest/logs/#send-logs (facts checked against
DataDog/datadog-api-client-python ``v2/api/logs_api.py``, ``rest.py``; WIRE-FORMATS.md §4).

- ``POST https://http-intake.logs.{site}/api/v2/logs`` (``endpoint`` replaces the base URL),
  ``DD-API-KEY: <api key>`` (no application key needed), ``Content-Type: application/json``,
  ``Content-Encoding: gzip`` (Datadog "recommends sending your logs compressed").
- Body: a JSON array of log items. ``ddsource`` (``source``, default ``siemhub``), ``service``
  (default ``siemhub``), ``hostname`` (when set), ``ddtags`` (the configured ``tags`` plus
  ``event_type:<type>`` and ``severity:<severity>``), ``message`` = the event in OCSF 1.1.0 as
  a JSON string, plus searchable attributes: ``timestamp`` (epoch ms, picked up by Datadog's
  date remapper), ``status`` (Datadog's log levels, from the severity), ``event_id``,
  ``event_type``, ``severity``, ``org_id``, ``asset``.
- Limits: at most 1000 entries and 5 MB uncompressed per request (measured here on the JSON
  before gzip); one log over 1 MB is accepted **and truncated** by Datadog with a 2xx, which no
  sender can prevent: keep events under 1 MB. Timestamps older than 18 h are not indexed.
- Answers: 202 accepted. 408/429/5xx retried (the docs: "should be retried after some time");
  401 (no key) and 403 (invalid key, or a key from another site) retried as configuration
  errors; 400 and 413 dead and splittable. Error bodies: ``{"errors": [...]}`` whose items are
  strings or ``{"status","title","detail"}`` objects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django import forms

from delivery.connectors._http_common import (
    gzip_body,
    header_safe,
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
    Outcome,
    SendResult,
    TransportResponse,
    chunk_encoded,
    json_array,
    requests_for_groups,
    classify_http,
)
from delivery.connectors.fields import UrlField
from delivery.formats.jsonenc import dumps, dumps_str
from delivery.formats.schema import render
from delivery.formats.timefmt import epoch_ms

API_PATH = "/api/v2/logs"
SITES = (  # datadog-api-client-python's server enum
    "datadoghq.com",
    "us3.datadoghq.com",
    "us5.datadoghq.com",
    "ap1.datadoghq.com",
    "ap2.datadoghq.com",
    "uk1.datadoghq.com",
    "datadoghq.eu",
    "ddog-gov.com",
    "us2.ddog-gov.com",
)
# siemhub severity → Datadog status (its log levels), so the Status facet and colours work.
STATUS = {"info": "info", "low": "notice", "medium": "warn", "high": "error", "critical": "critical"}


def tag_list(value: Any) -> list[str]:
    """``tags`` as a list: a comma-separated ``k:v`` string or a JSON list."""
    if not value:
        return []
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return [str(t).strip() for t in items if str(t).strip()]


class DatadogForm(HttpConfigForm):
    api_key = forms.CharField(help_text="Datadog API key (not an application key). Stored encrypted.")
    site = forms.ChoiceField(choices=[(s, s) for s in SITES], required=False, initial="datadoghq.com")
    service = forms.CharField(required=False, initial="siemhub")
    source = forms.CharField(required=False, initial="siemhub", help_text="Sent as ddsource.")
    tags = forms.CharField(required=False, help_text="Comma-separated key:value tags, e.g. env:prod,team:sec.")
    hostname = forms.CharField(required=False)
    endpoint = UrlField(required=False, help_text="Override the intake base URL (default https://http-intake.logs.{site}).")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["site"] = data.get("site") or "datadoghq.com"
        for key in ("api_key", "service", "source", "tags", "hostname"):
            if not header_safe(data.get(key) or ""):
                self.add_error(key, "Must not contain CR, LF or NUL characters.")
        data["tags"] = ",".join(tag_list(data.get("tags")))
        return data


class DatadogConnector(Connector):
    """Datadog Log Management through the HTTP intake."""

    type = "datadog"
    label = "Datadog Logs"
    config_form = DatadogForm
    secret_fields = ("api_key",)
    limits = Limits(max_events=1000, max_bytes=5_000_000, timeout_s=15.0)
    example_url = "https://http-intake.logs.datadoghq.com"

    def _url(self) -> str:
        base = self.config.get("endpoint") or f"https://http-intake.logs.{self.config.get('site') or 'datadoghq.com'}"
        return with_default_path(base, API_PATH)

    def item(self, event: Mapping[str, Any]) -> dict[str, Any]:
        severity = event.get("severity") or "info"
        tags = [*tag_list(self.config.get("tags")), f"event_type:{event['type']}", f"severity:{severity}"]
        item: dict[str, Any] = {
            "ddsource": self.config.get("source") or "siemhub",
            "ddtags": ",".join(tags),
            "service": self.config.get("service") or "siemhub",
        }
        if self.config.get("hostname"):
            item["hostname"] = self.config["hostname"]
        item["message"] = dumps_str(render(event, "ocsf"))
        item.update(
            timestamp=epoch_ms(event["timestamp"]),
            status=STATUS.get(severity, "info"),
            event_id=str(event["id"]),
            event_type=event["type"],
            severity=severity,
        )
        if event.get("org_id"):
            item["org_id"] = event["org_id"]
        if event.get("asset"):
            item["asset"] = event["asset"]
        return item

    def build_requests(self, events: Sequence[Mapping[str, Any]]) -> list[OutboundRequest]:
        encoded = [(str(e["id"]), dumps(self.item(e))) for e in events]
        url = self._url()
        headers = {
            "DD-API-KEY": str(self.secrets.get("api_key", "")),
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        }
        groups = chunk_encoded(
            encoded, max_events=self.limits.max_events, max_bytes=self.limits.max_bytes, overhead=2, separator=1
        )
        return requests_for_groups(groups, url=url, headers=headers, frame=lambda parts: gzip_body(json_array(parts)))

    def parse_response(self, request: OutboundRequest, response: TransportResponse) -> SendResult:
        outcome, splittable = classify_http(response)
        if response.status_code in (400, 413):
            outcome, splittable = Outcome.DEAD, True
        return self.result(response, outcome, splittable)

    def describe_error(self, response: TransportResponse) -> str:
        code = response.status_code
        if code is None:
            return safe_detail(super().describe_error(response), secret_values(self.secrets))
        hint = {
            400: "Datadog could not read the logs (bad payload)",
            401: "no Datadog API key was sent",
            403: f"invalid API key: Datadog refused it; check api_key, and that site ({self.config.get('site') or 'datadoghq.com'}) is your account's site",
            408: "Datadog timed out reading the request",
            413: "the request is over Datadog's 5 MB limit",
            429: "Datadog is rate limiting this API key",
        }.get(code, "Datadog refused the logs" if code < 500 else "Datadog intake error")
        errors = _errors(response.body)
        text = f"HTTP {code}: {hint}" + (f" ({one_line(errors, 120)})" if errors else "")
        return safe_detail(text, secret_values(self.secrets))


def _errors(body: bytes) -> str:
    answer = json_or_none(body)
    errors = answer.get("errors") if isinstance(answer, dict) else None
    if not isinstance(errors, list):
        return ""
    parts = []
    for err in errors:
        if isinstance(err, dict):
            parts.append(str(err.get("detail") or err.get("title") or ""))
        else:
            parts.append(str(err))
    return "; ".join(p for p in parts if p)
