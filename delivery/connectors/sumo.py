"""Sumo Logic HTTP Logs & Metrics Source.

Docs: https://www.sumologic.com/help/docs/send-data/hosted-collectors/http-source/logs-metrics/upload-logs/
and .../http-source/troubleshooting/ (SumoLogic/sumologic-documentation, WIRE-FORMATS.md §5).

- ``POST <HTTP Source URL>`` (``https://collectors.<region>.sumologic.com/receiver/v1/http/<code>``).
  The URL *is* the credential: it is stored as a secret, travels only in
  ``OutboundRequest.url``, and is scrubbed (whole, and its token path) from every message.
- Body: one event per line, each a single-line JSON object (``schema``: native or OCSF), lines
  separated by ``\\n``; JSON escapes newlines inside values (and we escape U+2028, U+2029 and
  U+0085 too), so Sumo's line-based message boundaries never split an event. ``Content-Type: text/plain`` (a metrics content type would
  make Sumo parse the lines as metrics), ``Content-Encoding: gzip``.
- Headers (apply to every message of the request): ``X-Sumo-Category``, ``X-Sumo-Host``,
  ``X-Sumo-Name``, ``X-Sumo-Fields: k=v,k=v`` (``fields``: an object or that string; keys
  without ``,`` ``=``, values without ``,``; Sumo keeps at most 30 pairs and values up to 200
  characters, and drops fields not defined in its Fields schema).
- Limits: no hard limit; Sumo recommends 100 KB-1 MB before compression and times a request out
  after 30 s (408), so batches stop at 1,000,000 uncompressed bytes.
- Answers: 200 = received (a 200 may carry a JSON warning such as ``bad.http.header.fields``,
  reported in ``detail``; during an Ingest Budget stop Sumo drops data and still answers 200,
  which no sender can see). 401 bad or deleted source URL, 408/429/503/504 retried ("the
  sending HTTP client must re-send" after throttling).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from django import forms

from delivery.connectors._http_common import gzip_body, header_safe, json_line, json_or_none, one_line, safe_detail
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
    parse_retry_after,
)
from delivery.connectors.fields import UrlField
from delivery.formats.schema import render

MAX_FIELDS = 30
MAX_FIELD_VALUE = 200


def parse_fields(value: Any) -> dict[str, str]:
    """``fields`` as an ordered dict; raises ValueError with an admin-readable reason."""
    if not value:
        return {}
    if isinstance(value, Mapping):
        pairs = [(str(k), "" if v is None else str(v)) for k, v in value.items()]
    else:
        pairs = []
        for part in str(value).split(","):
            if not part.strip():
                continue
            key, sep, val = part.partition("=")
            if not sep:
                raise ValueError(f"Write each field as key=value (got {part.strip()[:40]!r}).")
            pairs.append((key, val))
    out: dict[str, str] = {}
    for key, val in pairs:
        key, val = key.strip(), val.strip()
        if not key or any(ch in key for ch in ",=\r\n\x00"):
            raise ValueError(f"Field name {key[:40]!r} must be non-empty, without commas, equals signs or line breaks.")
        if "," in val or not header_safe(val):
            raise ValueError(f"The value of field {key[:40]!r} must not contain commas or line breaks.")
        if len(val) > MAX_FIELD_VALUE:
            raise ValueError(f"The value of field {key[:40]!r} is over {MAX_FIELD_VALUE} characters (Sumo drops it).")
        out[key] = val
    if len(out) > MAX_FIELDS:
        raise ValueError(f"Sumo Logic keeps at most {MAX_FIELDS} fields per request.")
    return out


class SumoForm(HttpConfigForm):
    url = UrlField(help_text="HTTP Source URL (it is the credential: stored encrypted, never shown again).")
    category = forms.CharField(required=False, help_text="X-Sumo-Category (source category override).")
    host = forms.CharField(required=False, help_text="X-Sumo-Host override.")
    name = forms.CharField(required=False, help_text="X-Sumo-Name (source name override).")
    fields = forms.CharField(required=False, help_text="X-Sumo-Fields: key=value pairs separated by commas.")

    def clean_fields(self) -> str:
        try:
            parsed = parse_fields(self.cleaned_data.get("fields"))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        return ",".join(f"{k}={v}" for k, v in parsed.items())

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for key in ("category", "host", "name"):
            if not header_safe(data.get(key) or ""):
                self.add_error(key, "Must not contain CR, LF or NUL characters.")
        return data


class SumoConnector(Connector):
    """Sumo Logic hosted collector, HTTP source."""

    type = "sumo"
    label = "Sumo Logic"
    config_form = SumoForm
    secret_fields = ("url",)
    limits = Limits(max_events=1000, max_bytes=1_000_000, timeout_s=30.0)
    example_url = "https://collectors.sumologic.com/receiver/v1/http/<code>"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "text/plain", "Content-Encoding": "gzip", "X-Sumo-Client": "siemhub"}
        for key, header in (("category", "X-Sumo-Category"), ("host", "X-Sumo-Host"), ("name", "X-Sumo-Name")):
            if self.config.get(key):
                headers[header] = str(self.config[key])
        fields = parse_fields(self.config.get("fields"))
        if fields:
            headers["X-Sumo-Fields"] = ",".join(f"{k}={v}" for k, v in fields.items())
        return headers

    def build_requests(self, events: Sequence[Mapping[str, Any]]) -> list[OutboundRequest]:
        encoded = [(str(e["id"]), json_line(render(e, self.config.get("schema")))) for e in events]
        url, headers = str(self.secrets.get("url", "")), self._headers()
        return [
            OutboundRequest(
                body=gzip_body(b"\n".join(line for _, line in group)),
                headers=headers,
                url=url,
                event_ids=tuple(eid for eid, _ in group),
            )
            for group in chunk_encoded(
                encoded, max_events=self.limits.max_events, max_bytes=self.limits.max_bytes, separator=1
            )
        ]

    def parse_response(self, request: OutboundRequest, response: TransportResponse) -> SendResult:
        outcome, splittable = classify_http(response)
        detail = "" if outcome is Outcome.OK else self.describe_error(response)
        warning = json_or_none(response.body)
        if outcome is Outcome.OK and isinstance(warning, dict) and warning.get("code"):
            detail = self._scrub(f"Sumo Logic accepted the data with a warning ({warning['code']}): {one_line(warning.get('message', ''), 160)}")
        return SendResult(
            outcome=outcome,
            status_code=response.status_code,
            retry_after_s=parse_retry_after(response.headers),
            detail=detail,
            splittable=splittable,
        )

    def describe_error(self, response: TransportResponse) -> str:
        code = response.status_code
        hint = {
            401: "Sumo Logic refused the HTTP Source URL: the source was deleted or its URL regenerated; paste the current URL",
            404: "Sumo Logic does not know this HTTP Source URL: paste the URL shown for the source",
            408: "Sumo Logic timed out processing the upload",
            429: "Sumo Logic is throttling the account (quota); the data is resent",
            503: "Sumo Logic collection is unavailable",
            504: "Sumo Logic collection timed out",
        }.get(code or 0)
        if code is None or not hint:
            return self._scrub(super().describe_error(response))
        return self._scrub(f"HTTP {code}: {hint}")

    def _scrub(self, text: str) -> str:
        """Remove the source URL, its token path and the token, in raw and decoded forms."""
        url = str(self.secrets.get("url", ""))
        path = urlsplit(url).path if url else ""
        token = path.rstrip("/").rsplit("/", 1)[-1] if path else ""
        values = [url, unquote(url), path, unquote(path)] + ([token, unquote(token)] if len(token) >= 8 else [])
        return safe_detail(text, values)
