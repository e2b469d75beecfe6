"""Elasticsearch Bulk API.

Docs: https://www.elastic.co/guide/en/elasticsearch/reference/current/docs-bulk.html
(facts checked against elastic/elasticsearch-py and logstash-output-elasticsearch, WIRE-FORMATS.md §2).

- ``POST {url}/_bulk[?pipeline=...]``, ``Content-Type: application/x-ndjson``. The body is one
  ``{"create":{"_index":..,"_id":<event id>}}`` line plus one source line per event, and the
  final line ends with ``\\n`` (ES answers 400 "The bulk request must be terminated by a
  newline [\\n]" otherwise).
- Always ``create`` with ``_id`` = event id: a retried batch cannot duplicate a document, a 409
  ``version_conflict_engine_exception`` means "already indexed" (counted as delivered), and
  ``create`` is the only action data streams accept.
- Auth: ``Authorization: ApiKey <base64(id:key)>`` (``api_key`` may be the encoded value Kibana
  shows, or ``id:key`` which is base64-encoded here, as elasticsearch-py does for a tuple), or
  HTTP Basic with ``username`` + ``password``.
- Limits: 500 actions per request (elasticsearch-py ``bulk`` helper default ``chunk_size``) and
  5 MB, far below ES's 100 MB ``http.max_content_length`` default and inside Elastic's tuning
  advice ("avoid going beyond a couple tens of megabytes per request").
- Answers: a 200 can still hold failed items. Each item is read by position: 2xx and 409 (on
  ``create``) OK; 429 and 5xx RETRY; 401/403 RETRY (privileges: fixing them delivers); 400/404
  and other 4xx DEAD with the ES reason (mapping error, missing pipeline). A whole-request 413
  is DEAD and splittable (the engine bisects down to the one oversized event).
- ``X-Elastic-Product``: elasticsearch-py refuses a 2xx without ``X-Elastic-Product:
  Elasticsearch``. We do not require the header (ES before 7.14 and OpenSearch omit it) but we
  never count a 2xx as delivered unless its body is a bulk answer with one item per action: a
  proxy or wrong server answering 200 must not swallow events.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from django import forms

from delivery.connectors._http_common import (
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
    bool_config,
    chunk_encoded,
    classify_http,
    parse_retry_after,
)
from delivery.connectors.fields import UrlField
from delivery.formats.jsonenc import dumps
from delivery.formats.schema import render
from delivery.formats.timefmt import iso_utc, parse_iso

DEFAULT_INDEX = "siemhub-events"
DEFAULT_DATA_STREAM = "logs-siemhub-default"  # matched by ES's built-in logs-*-* template
# Index / data stream name rules from the create-index API docs.
_BAD_INDEX_CHARS = re.compile(r'[\\/*?"<>| ,#:A-Z]')


class ElasticForm(HttpConfigForm):
    url = UrlField(help_text="Elasticsearch URL, e.g. https://es.example.com:9200 (/_bulk is added).")
    api_key = forms.CharField(
        required=False,
        help_text="API key: the encoded value, or id:key. Leave empty to use username + password.",
    )
    username = forms.CharField(required=False)
    password = forms.CharField(required=False)
    index = forms.CharField(
        required=False,
        help_text=f"Target index or data stream (default {DEFAULT_INDEX}; {DEFAULT_DATA_STREAM} for a data stream).",
    )
    pipeline = forms.CharField(required=False, help_text="Ingest pipeline id (optional).")
    data_stream = forms.BooleanField(required=False, help_text="The target is a data stream.")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data_stream = bool(data.get("data_stream"))
        index = (data.get("index") or "").strip() or (DEFAULT_DATA_STREAM if data_stream else DEFAULT_INDEX)
        if _BAD_INDEX_CHARS.search(index) or index.startswith(("-", "_", "+")) or index in (".", ".."):
            self.add_error(
                "index", 'Index names are lowercase, without spaces or \\ / * ? " < > | , # : and not starting with - _ +.'
            )
        elif len(index.encode()) > 255:
            self.add_error("index", "Index names are at most 255 bytes.")
        data["index"] = index
        pipeline = (data.get("pipeline") or "").strip()
        data["pipeline"] = pipeline
        if not data.get("api_key") and not (data.get("username") and data.get("password")):
            self.add_error("api_key", "Give an API key, or a username and a password.")
        for key in ("api_key", "username", "password"):
            if any(ch in (data.get(key) or "") for ch in "\r\n\x00"):
                self.add_error(key, "Must not contain CR, LF or NUL characters.")
        return data


def api_key_header(api_key: str) -> str:
    """``ApiKey <encoded>``: an ``id:key`` pair is base64-encoded; anything else is taken to be
    the already-encoded form (what Kibana's "Encoded" field and ES's create-key answer show)."""
    key = api_key.strip()
    if ":" in key:
        key = base64.b64encode(key.encode()).decode()
    return f"ApiKey {key}"


class ElasticConnector(Connector):
    """Elasticsearch (and Elastic Cloud) through the Bulk API, one document per event."""

    type = "elastic"
    label = "Elasticsearch"
    config_form = ElasticForm
    secret_fields = ("api_key", "password")
    limits = Limits(max_events=500, max_bytes=5_000_000, timeout_s=30.0)
    example_url = "https://es.example.com:9200"

    @property
    def index(self) -> str:
        default = DEFAULT_DATA_STREAM if bool_config(self.config.get("data_stream"), False) else DEFAULT_INDEX
        return self.config.get("index") or default

    def _url(self) -> str:
        url = with_default_path(self.config["url"], "/_bulk")
        pipeline = self.config.get("pipeline")
        if pipeline:
            url += ("&" if "?" in url else "?") + urlencode({"pipeline": pipeline})
        return url

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/x-ndjson", "Accept": "application/json"}
        if self.secrets.get("api_key"):
            headers["Authorization"] = api_key_header(self.secrets["api_key"])
        elif self.config.get("username"):
            pair = f"{self.config['username']}:{self.secrets.get('password', '')}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        return headers

    def _action(self, event: Mapping[str, Any]) -> bytes:
        action = dumps({"create": {"_index": self.index, "_id": str(event["id"])}})
        doc = {"@timestamp": iso_utc(parse_iso(event["timestamp"])), **render(event, self.config.get("schema"))}
        return action + b"\n" + dumps(doc) + b"\n"

    def build_requests(self, events: Sequence[Mapping[str, Any]]) -> list[OutboundRequest]:
        encoded = [(str(e["id"]), self._action(e)) for e in events]
        url, headers = self._url(), self._headers()
        return [
            OutboundRequest(
                body=b"".join(body for _, body in group),  # every pair ends with \n: so does the body
                headers=headers,
                url=url,
                event_ids=tuple(eid for eid, _ in group),
            )
            for group in chunk_encoded(encoded, max_events=self.limits.max_events, max_bytes=self.limits.max_bytes)
        ]

    def parse_response(self, request: OutboundRequest, response: TransportResponse) -> SendResult:
        outcome, splittable = classify_http(response)
        if outcome is not Outcome.OK:
            return SendResult(
                outcome=outcome,
                status_code=response.status_code,
                retry_after_s=parse_retry_after(response.headers),
                detail=self.describe_error(response),
                splittable=splittable,
            )
        answer = json_or_none(response.body)
        items = answer.get("items") if isinstance(answer, dict) else None
        if not isinstance(items, list) or len(items) != len(request.event_ids) or not _ids_line_up(request, items):
            # Not a bulk answer for this request (wrong server, proxy page, or the ES 7.10
            # item-count bug Logstash guards against): nothing is known to be indexed.
            product = response.headers.get("x-elastic-product", "")
            why = (
                "item mismatch: count or _id differs from the request"
                if product
                else "no X-Elastic-Product header: is this URL Elasticsearch?"
            )
            return SendResult(
                outcome=Outcome.RETRY,
                status_code=response.status_code,
                detail=f"HTTP {response.status_code} without a valid bulk answer ({why})",
            )
        return self._per_item(request, items, response.status_code)

    def _per_item(self, request: OutboundRequest, items: list[Any], status: int | None) -> SendResult:
        per_event: dict[str, Outcome] = {}
        details: dict[str, str] = {}
        for event_id, item in zip(request.event_ids, items):
            result = next(iter(item.values()), {}) if isinstance(item, dict) and item else {}
            code = result.get("status") if isinstance(result, dict) else None
            outcome = _item_outcome(code if isinstance(code, int) else None)
            per_event[event_id] = outcome
            if outcome is not Outcome.OK:
                details[event_id] = self._scrub(_item_reason(code, result.get("error")))
        failed = [eid for eid, o in per_event.items() if o is not Outcome.OK]
        if not failed:
            return SendResult(outcome=Outcome.OK, per_event=per_event, status_code=status)
        retry = sum(1 for o in per_event.values() if o is Outcome.RETRY)
        dead = len(failed) - retry
        summary = (
            f"Elasticsearch indexed {len(per_event) - len(failed)} of {len(per_event)} events"
            f" ({retry} to retry, {dead} rejected); first error: {details[failed[0]]}"
        )
        return SendResult(
            outcome=Outcome.RETRY if retry else Outcome.DEAD,
            per_event=per_event,
            status_code=status,
            detail=self._scrub(summary),
            per_event_detail=details,
        )

    def describe_error(self, response: TransportResponse) -> str:
        code = response.status_code
        if code is None:
            return self._scrub(super().describe_error(response))
        err = json_or_none(response.body)
        error = err.get("error") if isinstance(err, dict) else None
        reason = ""
        if isinstance(error, dict):
            reason = f"{error.get('type', 'error')}: {error.get('reason', '')}"
        elif isinstance(error, str):  # e.g. 406 {"error":"Content-Type header [..] is not supported"}
            reason = error
        hint = {
            401: "Elasticsearch refused the credentials",
            403: "the user or API key lacks the create_doc privilege on the index",
            404: "nothing at this URL: check the Elasticsearch URL",
            413: "the request is over Elasticsearch's http.max_content_length",
            429: "Elasticsearch is overloaded (429)",
        }.get(code, "Elasticsearch rejected the request")
        text = f"HTTP {code}: {hint}" + (f" ({one_line(reason, 180)})" if reason else "")
        return self._scrub(text)

    def _scrub(self, text: str) -> str:
        values = secret_values(self.secrets)
        key = self.secrets.get("api_key") or ""
        if ":" in key:  # the encoded form and the key half are credentials too
            values += [api_key_header(key).split(" ", 1)[1], key.split(":", 1)[1]]
        if self.config.get("username") and self.secrets.get("password"):
            values.append(self._headers()["Authorization"].split(" ", 1)[1])
        return safe_detail(text, values)


def _ids_line_up(request: OutboundRequest, items: list[Any]) -> bool:
    """Items answer the actions in order; an item naming another ``_id`` means they do not."""
    for event_id, item in zip(request.event_ids, items):
        result = next(iter(item.values()), {}) if isinstance(item, dict) and item else {}
        if isinstance(result, dict) and result.get("_id") not in (None, event_id):
            return False
    return True


def _item_outcome(status: int | None) -> Outcome:
    if status is None:
        return Outcome.RETRY  # unreadable item: nothing proves it was indexed
    if 200 <= status < 300 or status == 409:  # 409 on create = our _id is already there
        return Outcome.OK
    if status == 429 or status >= 500 or status in (401, 403):
        return Outcome.RETRY
    return Outcome.DEAD


def _item_reason(status: Any, error: Any) -> str:
    if isinstance(error, dict):
        text = f"{error.get('type', 'error')}: {error.get('reason', '')}"
        cause = error.get("caused_by")
        if isinstance(cause, dict) and cause.get("reason"):
            text += f" (caused by {cause.get('type', 'error')}: {cause['reason']})"
        return one_line(f"{status} {text}", 200)
    return f"{status} {one_line(error, 180)}" if error else f"item status {status}"
