"""Splunk HTTP Event Collector (HEC).

Docs: https://docs.splunk.com/Documentation/Splunk/latest/Data/FormateventsforHTTPEventCollector
and https://help.splunk.com/en/splunk-enterprise/get-data-in/collect-http-event-data/http-event-collector-rest-api-endpoints

- ``POST /services/collector/event`` with JSON envelopes concatenated (no array, no separator
  needed; we put a newline between them for readability). ``time`` is epoch seconds with
  milliseconds as a plain decimal (``1717171717.123``), never scientific notation.
- Auth: ``Authorization: Splunk <token>``.
- Limits: ``max_content_length`` is 1 MB on old Splunk (800 MiB since 6.5); 1 MB per request is
  safe everywhere and small enough for low latency. An event is never split across requests.
- Answers: ``{"text":"Success","code":0}``; errors carry a HEC code (WIRE-FORMATS.md §1):
  4 invalid token, 7 incorrect index, 6 invalid data format, 9 server busy, ...
- Indexer acknowledgement (``use_ack``): requests carry ``X-Splunk-Request-Channel`` and the
  sender polls ``/services/collector/ack`` until Splunk confirms the batch was indexed; an
  unconfirmed batch is retried (Splunk Enterprise only; Splunk Cloud does not offer it).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
from django import forms

from delivery.connectors.base import (
    Connector,
    HttpConfigForm,
    Limits,
    OutboundRequest,
    Outcome,
    SendResult,
    TransportResponse,
    bool_config,
    chunk_encoded,
    classify_http,
    requests_for_groups,
    short_text,
)
from delivery.connectors.fields import UrlField
from delivery.formats.jsonenc import dumps
from delivery.formats.schema import render
from delivery.formats.timefmt import epoch_seconds_text

STANDARD_PATH = "/services/collector/event"
# HEC codes (Splunk's table, WIRE-FORMATS.md §1) → what an admin should do.
HEC_CODES: dict[int, str] = {
    1: "Token disabled: enable the HEC token in Splunk",
    2: "Token is required: no HEC token was sent",
    3: "Invalid authorization: Splunk refused the Authorization header",
    4: "Invalid token: Splunk does not recognise this HEC token",
    5: "No data: the request body was empty",
    6: "Invalid data format: Splunk could not parse an event",
    7: "Incorrect index: the HEC token is not allowed to write to this index",
    8: "Internal server error in Splunk",
    9: "Server is busy: Splunk's queues are full",
    10: "Data channel is missing: indexer acknowledgement is on for this token; enable 'use_ack'",
    11: "Invalid data channel",
    12: "Event field is required",
    13: "Event field cannot be blank",
    14: "ACK is disabled: indexer acknowledgement is off for this token; disable 'use_ack'",
    15: "Error in handling indexed fields",
    16: "Query string authorization is not enabled",
}
POISON_CODES = frozenset({5, 6, 12, 13, 15})  # the data, not the configuration, is wrong
CONFIG_CODES = frozenset({1, 2, 3, 4, 7, 10, 11, 14, 16})
ACK_POLL_INTERVAL_S = 0.5


class SplunkForm(HttpConfigForm):
    endpoint = UrlField(
        help_text="HEC URL, e.g. https://splunk.example.com:8088/services/collector/event "
        "(the path is added when only https://host:8088 is given)."
    )
    token = forms.CharField(help_text="HEC token (a GUID). Stored encrypted; never shown again.")
    index = forms.CharField(required=False, help_text="Target index; must be allowed for the token.")
    source = forms.CharField(required=False, initial="siemhub")
    sourcetype = forms.CharField(required=False, initial="_json")
    host = forms.CharField(required=False, help_text="Value of the host field in Splunk.")
    use_ack = forms.BooleanField(
        required=False, help_text="Wait for indexer acknowledgement (Splunk Enterprise, token with useACK)."
    )

    def clean_sourcetype(self) -> str:
        return self.cleaned_data.get("sourcetype") or "_json"


def hec_url(endpoint: str, path: str = STANDARD_PATH) -> str:
    parts = urlsplit(endpoint.strip())
    base_path = parts.path.rstrip("/")
    if path != STANDARD_PATH:  # e.g. the ack endpoint, beside the configured one
        base_path = path
    elif not base_path.startswith("/services/collector"):
        base_path = (base_path or "") + STANDARD_PATH
    return urlunsplit((parts.scheme, parts.netloc, base_path, parts.query, ""))


class SplunkConnector(Connector):
    """Splunk HEC, JSON event endpoint."""

    type = "splunk"
    label = "Splunk HEC"
    config_form = SplunkForm
    secret_fields = ("token",)
    limits = Limits(max_events=1000, max_bytes=1_000_000, timeout_s=10.0)
    example_url = "https://splunk.example.com:8088/services/collector/event"

    def _envelope(self, event: Mapping[str, Any]) -> bytes:
        meta: dict[str, Any] = {}
        for key in ("host", "source", "sourcetype", "index"):
            value = self.config.get(key) or ("_json" if key == "sourcetype" else "")
            if value:
                meta[key] = value
        meta["event"] = render(event, self.config.get("schema"))
        # ``time`` is spliced in as decimal text so it is exact and never 1.7E9-style.
        return b'{"time":' + epoch_seconds_text(event["timestamp"]).encode() + b"," + dumps(meta)[1:]

    def _headers(self) -> dict[str, str]:
        headers = {
            "Authorization": f"Splunk {self.secrets.get('token', '')}",
            "Content-Type": "application/json",
        }
        if bool_config(self.config.get("use_ack"), False):
            headers["X-Splunk-Request-Channel"] = self.channel()
        return headers

    def channel(self) -> str:
        """A stable channel GUID per token, so acks survive a worker restart."""
        digest = hashlib.sha256(b"siemhub-hec-channel:" + self.secrets.get("token", "").encode()).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))

    def build_requests(self, events: Sequence[Mapping[str, Any]]) -> list[OutboundRequest]:
        encoded = [(str(e["id"]), self._envelope(e)) for e in events]
        url = hec_url(self.config["endpoint"])
        headers = self._headers()
        groups = chunk_encoded(encoded, max_events=self.limits.max_events, max_bytes=self.limits.max_bytes, separator=1)
        return requests_for_groups(groups, url=url, headers=headers, frame=b"\n".join)

    def parse_response(self, request: OutboundRequest, response: TransportResponse) -> SendResult:
        outcome, splittable = classify_http(response)
        code = _hec_code(response.body)
        if outcome is Outcome.OK and code not in (None, 0):
            outcome = Outcome.DEAD  # 2xx with an error code: never seen, but do not call it delivered
        if code in POISON_CODES:
            outcome, splittable = Outcome.DEAD, True
        elif code in CONFIG_CODES:
            outcome, splittable = Outcome.RETRY, False
        return self.result(response, outcome, splittable)

    def describe_error(self, response: TransportResponse) -> str:
        code = _hec_code(response.body)
        if code is not None and code in HEC_CODES:
            text = HEC_CODES[code]
            if code == 7 and self.config.get("index"):
                text += f" ({self.config['index']!r})"
            return f"Splunk HEC error {code} (HTTP {response.status_code}): {text}"[:256]
        if response.status_code is not None and not short_text(response.body):
            return super().describe_error(response)
        if response.status_code is not None:
            return f"Splunk HEC answered HTTP {response.status_code}: {short_text(response.body)}"[:256]
        return super().describe_error(response)

    def confirm(
        self, request: OutboundRequest, response: TransportResponse, result: SendResult, send: Any
    ) -> SendResult:
        """With ``use_ack``: poll ``/services/collector/ack`` until the batch is indexed."""
        if result.outcome is not Outcome.OK or not bool_config(self.config.get("use_ack"), False):
            return result
        return self.ack_confirm(request, response, send)

    def ack_confirm(self, request: OutboundRequest, response: TransportResponse, send: Any) -> SendResult:
        """Poll for the ackId in ``response``; RETRY when Splunk has not confirmed in time."""
        ack_id = _ack_id(response.body)
        if ack_id is None:
            return SendResult(Outcome.OK, status_code=response.status_code)
        url = hec_url(self.config["endpoint"], "/services/collector/ack")
        body = dumps({"acks": [ack_id]})
        deadline = time.monotonic() + max(self.timeout * 3, 10.0)
        while time.monotonic() < deadline:
            poll = send(OutboundRequest(body=body, headers=self._headers(), url=url))
            if poll.status_code == 200:
                try:
                    acks = orjson.loads(poll.body).get("acks", {})
                except (orjson.JSONDecodeError, AttributeError):
                    acks = {}
                if acks.get(str(ack_id)) is True:
                    return SendResult(Outcome.OK, status_code=response.status_code)
            elif poll.status_code is not None and poll.status_code != 503:
                break
            time.sleep(ACK_POLL_INTERVAL_S)
        return SendResult(
            Outcome.RETRY,
            status_code=response.status_code,
            detail=f"Splunk accepted the batch but did not confirm indexing (ackId {ack_id}) in time",
        )


def _hec_code(body: bytes) -> int | None:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    code = value.get("code") if isinstance(value, dict) else None
    return code if isinstance(code, int) else None


def _ack_id(body: bytes) -> int | None:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    ack = value.get("ackId") if isinstance(value, dict) else None
    return ack if isinstance(ack, int) else None
