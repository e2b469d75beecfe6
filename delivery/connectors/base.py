"""The connector contract every SIEM destination implements.

A connector is pure: it receives plain data (non-secret ``config``, decrypted ``secrets`` and
canonical event dicts) and returns :class:`OutboundRequest` objects, then turns a
:class:`TransportResponse` into a :class:`SendResult`. It never touches Django models, the
database or the network; the delivery engine owns those. That keeps every wire format testable
byte for byte without a database.

Canonical event dict (see DESIGN.md §3)::

    {"id": "uuid", "type": "finding.new", "timestamp": "2026-01-01T00:00:00.000000Z",
     "severity": "high", "org_id": "acme" | None, "asset": {...} | None, "data": {...}}
"""

from __future__ import annotations

import email.utils
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from django import forms


class Outcome(StrEnum):
    """What happened to one request or one event."""

    OK = "ok"  # delivered (or already there: e.g. Elasticsearch 409 on our own _id)
    RETRY = "retry"  # transient: back off and send again
    DEAD = "dead"  # permanent: dead-letter now (a single event) or bisect (a batch)


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-request limits from the vendor's documentation (see WIRE-FORMATS.md)."""

    max_events: int
    max_bytes: int  # measured on the uncompressed body unless the connector says otherwise
    timeout_s: float = 10.0


@dataclass(frozen=True, slots=True)
class OutboundRequest:
    """One request on the wire. ``headers`` and ``url`` may hold credentials: never log them.

    For HTTP connectors ``body`` is exactly the bytes sent (already compressed when the
    connector compresses). Syslog connectors use ``frames``: one already-framed message per
    event, sent in order over the connector's socket.
    """

    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    url: str = ""
    method: str = "POST"
    event_ids: tuple[str, ...] = ()
    frames: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class TransportResponse:
    """What a transport saw. ``status_code`` is None when no HTTP answer came back."""

    status_code: int | None
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-cased names
    error: str = ""  # connection / timeout / TLS error text (already scrubbed)
    elapsed_s: float = 0.0


@dataclass(frozen=True, slots=True)
class SendResult:
    """The outcome of one request.

    ``per_event`` overrides ``outcome`` for the events it names (partial bulk answers).
    ``splittable`` says a DEAD answer for a multi-event request may be caused by one event
    (400 bad data, 413 too large): the engine then bisects instead of dead-lettering all.
    ``detail`` is shown to admins as ``last_error``: at most 256 characters, no secrets.
    """

    outcome: Outcome
    per_event: Mapping[str, Outcome] = field(default_factory=dict)
    status_code: int | None = None
    retry_after_s: float | None = None
    detail: str = ""
    splittable: bool = False
    per_event_detail: Mapping[str, str] = field(default_factory=dict)


class ConfigForm(forms.Form):
    """Base for connector config forms: the keys every type accepts (DESIGN.md §4)."""

    schema = forms.ChoiceField(
        choices=[("native", "Native (siemhub JSON)"), ("ocsf", "OCSF 1.1.0")],
        initial="native",
        required=False,
        help_text="Event shape sent to the SIEM.",
    )
    timeout = forms.FloatField(
        min_value=1,
        max_value=120,
        required=False,
        initial=10,
        help_text="Seconds to wait for the destination to answer.",
    )

    def clean_schema(self) -> str:
        return self.cleaned_data.get("schema") or "native"

    def clean_timeout(self) -> float:
        return self.cleaned_data.get("timeout") or 10.0


class HttpConfigForm(ConfigForm):
    """Keys every HTTP connector accepts in addition to the common ones."""

    tls_verify = forms.BooleanField(
        required=False,
        initial=True,
        help_text="Verify the destination's TLS certificate (strongly recommended).",
    )
    ca_bundle = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="PEM CA certificate(s) to trust for this destination, pasted as text.",
    )

    def clean_ca_bundle(self) -> str:
        pem = (self.cleaned_data.get("ca_bundle") or "").strip()
        if pem and "-----BEGIN CERTIFICATE-----" not in pem:
            raise forms.ValidationError("Paste the CA certificate in PEM format (-----BEGIN CERTIFICATE-----).")
        return pem


def bool_config(value: Any, default: bool) -> bool:
    """Read a boolean config value that may be missing (None) or a JSON boolean/string."""
    if value is None or value == "":
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    raw = (headers.get("retry-after") or "").strip()
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def short_text(body: bytes, limit: int = 200) -> str:
    """Remote error text, decoded and truncated for ``last_error``."""
    text = body.decode("utf-8", "replace").strip().replace("\r", " ").replace("\n", " ")
    return text[:limit] + ("…" if len(text) > limit else "")


RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
CONFIG_ERROR_STATUS = frozenset({401, 403, 404, 407, 410})


def classify_http(resp: TransportResponse) -> tuple[Outcome, bool]:
    """Default HTTP classification: (outcome, splittable).

    2xx → OK. Network errors, 408/425/429/5xx (but 501) → RETRY. 401/403/404/407/410 are
    configuration errors (wrong token, wrong URL, an endpoint the receiver retired): retried with
    backoff rather than dropped, so that fixing the configuration delivers what was waiting
    (peers drop data here). 400/413/422 and
    other 4xx → DEAD and splittable: one bad or oversized event may be the cause.
    """
    code = resp.status_code
    if code is None:
        return Outcome.RETRY, False
    if 200 <= code < 300:
        return Outcome.OK, False
    if code in RETRYABLE_STATUS or (code >= 500 and code != 501):
        return Outcome.RETRY, False
    if code in CONFIG_ERROR_STATUS:
        return Outcome.RETRY, False
    return Outcome.DEAD, True


class Connector(ABC):
    """Base class of every destination type. Subclasses live in one module each."""

    type: ClassVar[str]
    label: ClassVar[str]
    config_form: ClassVar[type[forms.Form]]
    secret_fields: ClassVar[tuple[str, ...]]
    limits: ClassVar[Limits]
    transport: ClassVar[str] = "http"  # "http" or "syslog"
    # Shown in the UI next to the URL field: the vendor's documented URL shape.
    example_url: ClassVar[str] = ""
    deprecated: ClassVar[str] = ""  # non-empty: shown as a warning (e.g. a retired API)

    def __init__(self, *, config: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
        self.config = dict(config)
        self.secrets = dict(secrets)

    def __repr__(self) -> str:  # never show secrets
        return f"<{type(self).__name__} type={self.type}>"

    @property
    def timeout(self) -> float:
        try:
            return float(self.config.get("timeout") or self.limits.timeout_s)
        except (TypeError, ValueError):
            return self.limits.timeout_s

    @abstractmethod
    def build_requests(self, events: Sequence[Mapping[str, Any]]) -> list[OutboundRequest]:
        """Pure: format ``events`` and split them by ``limits`` (never truncate). No I/O.

        Every event id appears in exactly one request's ``event_ids``, in input order. An event
        that alone exceeds ``max_bytes`` still gets its own request: the destination decides
        (and a 413 then dead-letters just that event).
        """

    def parse_response(self, request: OutboundRequest, response: TransportResponse) -> SendResult:
        """Default: 2xx OK; network, 408/429/5xx and auth errors RETRY; other 4xx DEAD."""
        outcome, splittable = classify_http(response)
        return self.result(response, outcome, splittable)

    def result(self, response: TransportResponse, outcome: Outcome, splittable: bool = False) -> SendResult:
        """A whole-request SendResult: Retry-After read, the error described unless OK."""
        return SendResult(
            outcome=outcome,
            status_code=response.status_code,
            retry_after_s=parse_retry_after(response.headers),
            detail="" if outcome is Outcome.OK else self.describe_error(response),
            splittable=splittable,
        )

    def describe_error(self, response: TransportResponse) -> str:
        """A sentence an admin understands; vendors override with their error codes."""
        if response.status_code is None:
            return f"Could not reach the destination: {response.error or 'no answer'}"
        hint = {
            401: "authentication failed: check the credential",
            403: "the credential was refused (forbidden): check its permissions",
            404: "the URL was not found: check the endpoint path",
            410: "the receiver says this endpoint is gone: update the URL or disable the integration",
            408: "the destination timed out reading the request",
            413: "the request was too large for the destination",
            429: "the destination is rate limiting (429)",
        }.get(response.status_code, "")
        text = short_text(response.body)
        parts = [f"HTTP {response.status_code}"]
        if hint:
            parts.append(hint)
        if text:
            parts.append(text)
        return ": ".join(parts)[:256]

    def transport_options(self) -> dict[str, Any]:
        """Keyword arguments for the transport (HttpTransport by default)."""
        return {
            "timeout": self.timeout,
            "tls_verify": bool_config(self.config.get("tls_verify"), True),
            "ca_bundle": self.config.get("ca_bundle") or "",
        }

    def authenticate(self, send: Any) -> None:  # pragma: no cover - optional hook
        """Optional hook run before sending (e.g. fetch an OAuth token); ``send`` performs a
        request through the engine's transport and returns a TransportResponse."""

    def confirm(
        self, request: OutboundRequest, response: TransportResponse, result: SendResult, send: Any
    ) -> SendResult:
        """Optional hook after a send (e.g. Splunk indexer acknowledgement polling).
        ``send(OutboundRequest) -> TransportResponse`` reaches the same destination."""
        return result

    def request_headers(self, request: OutboundRequest) -> Mapping[str, str]:
        """Final headers for a request at send time (hook for tokens fetched in authenticate)."""
        return request.headers


def chunk_encoded(
    items: Sequence[tuple[str, bytes]],
    *,
    max_events: int,
    max_bytes: int,
    overhead: int = 0,
    separator: int = 0,
) -> list[list[tuple[str, bytes]]]:
    """Group already-encoded events into requests within the limits, keeping order.

    ``overhead`` is the fixed bytes of a request (e.g. ``[]`` for a JSON array), ``separator``
    the bytes between two items. An item too big on its own becomes a request of its own: it is
    never cut. Every item lands in exactly one group.
    """
    groups: list[list[tuple[str, bytes]]] = []
    current: list[tuple[str, bytes]] = []
    size = overhead
    for item in items:
        extra = len(item[1]) + (separator if current else 0)
        if current and (len(current) >= max_events or size + extra > max_bytes):
            groups.append(current)
            current, size = [], overhead
            extra = len(item[1])
        current.append(item)
        size += extra
    if current:
        groups.append(current)
    return groups


def json_array(parts: Sequence[bytes]) -> bytes:
    """``[a,b,c]`` from already-encoded JSON values (pairs with ``overhead=2, separator=1``)."""
    return b"[" + b",".join(parts) + b"]"


def requests_for_groups(
    groups: Sequence[Sequence[tuple[str, bytes]]],
    *,
    url: str,
    headers: Mapping[str, str],
    frame: Any,
) -> list[OutboundRequest]:
    """One OutboundRequest per group from ``chunk_encoded``; ``frame(parts) -> body``."""
    return [
        OutboundRequest(
            body=frame([body for _, body in group]),
            headers=headers,
            url=url,
            event_ids=tuple(event_id for event_id, _ in group),
        )
        for group in groups
    ]
