"""Syslog destination: RFC 5424 messages carrying CEF, LEEF 2.0 or JSON, over UDP, TCP or TLS.

Wire formats: :mod:`delivery.formats.syslog` (header, PRI, structured data, framing, UDP
truncation), :mod:`delivery.formats.cef`, :mod:`delivery.formats.leef`; sockets:
:mod:`delivery.transports.syslog`. Standards: RFC 5424, RFC 5425 (TLS, port 6514), RFC 5426
(UDP), RFC 6587 (TCP framing); WIRE-FORMATS.md §7-8.

Config (DESIGN.md §4): ``host``, ``port`` (default 514, or 6514 for TLS), ``protocol``
(``udp`` / ``tcp`` / ``tls``, default ``tls``: RFC 6587 plain TCP is Historic), ``format``
(``cef`` / ``leef`` / ``rfc5424``, default ``rfc5424``), ``facility`` (default ``local0``),
``framing`` (``octet-counting`` default, or ``lf``; UDP has none), ``ca_bundle``, ``client_cert``,
``client_key`` (secret), ``device_vendor`` / ``device_product`` / ``device_version`` (CEF and
LEEF header; default ``siemhub`` / ``siemhub`` / the siemhub version), plus ``hostname`` (the
RFC 5424 HOSTNAME; default this machine's name) and ``udp_max_bytes`` (default 2048).

- ``rfc5424``: MSG is the event rendered in the integration's ``schema`` (native or OCSF) as
  compact JSON; ``[siemhub@32473 eventId="..." type="..." severity="..." orgId="..."]`` carries
  the identifiers, so receivers can deduplicate without parsing MSG. ``schema`` does not apply to
  CEF and LEEF, which are schemas of their own (they carry the event id as ``externalId``).
- Every event is one message; one request holds up to 500 events / 1 MB of frames and goes out
  over one connection write. UDP messages over ``udp_max_bytes`` are truncated with a visible
  marker, counted (:data:`UDP_TRUNCATIONS`, ``SyslogConnector.truncated_events``) and reported in
  ``SendResult.detail``; TCP and TLS never truncate.
- Any transport error → RETRY (the engine backs off). Syslog has no per-event rejection.

Presets (:data:`PRESETS`, merged into the config by the UI):
- ``qradar``: LEEF over TCP 514, LF framing. QRadar's syslog listener is newline-delimited, and
  LEEF never contains a raw newline (it is escaped), so LF framing is safe there.
- ``arcsight``: CEF over TLS 6514 (RFC 5425, octet counting) for an ArcSight SmartConnector
  ("Syslog Daemon" / Syslog NG Daemon with TLS); pick ``tcp`` + ``lf`` for a plain TCP listener.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from django import forms

import siemhub
from delivery.connectors.base import (
    ConfigForm,
    Connector,
    Limits,
    OutboundRequest,
    Outcome,
    SendResult,
    TransportResponse,
    chunk_encoded,
)
from delivery.connectors.fields import PemField
from delivery.formats import cef, leef
from delivery.formats import syslog as rfc5424
from delivery.formats.jsonenc import dumps
from delivery.formats.schema import render
from delivery.formats.timefmt import iso_utc, parse_iso
from delivery.transports.syslog import PROTOCOLS, SyslogError, client_context

# Request metadata (syslog has no headers): how many UDP messages were cut; a config error.
TRUNCATED_HEADER = "X-Siemhub-Truncated"
CONFIG_ERROR_HEADER = "X-Siemhub-Config-Error"
FORMATS = ("cef", "leef", "rfc5424")
DEFAULT_PORT = {"udp": 514, "tcp": 514, "tls": 6514}

PRESETS: dict[str, dict[str, Any]] = {
    "qradar": {"protocol": "tcp", "port": 514, "format": "leef", "framing": "lf", "facility": "local0"},
    "arcsight": {"protocol": "tls", "port": 6514, "format": "cef", "framing": "octet-counting", "facility": "local0"},
}
PRESET_LABELS: dict[str, str] = {
    "qradar": "IBM QRadar (LEEF 2.0 over TCP 514)",
    "arcsight": "ArcSight SmartConnector (CEF over TLS 6514)",
}


class TruncationCounter:
    """Process-wide count of UDP messages cut to fit a datagram (for metrics and tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def add(self, count: int) -> None:
        with self._lock:
            self.value += count


UDP_TRUNCATIONS = TruncationCounter()


def _no_controls(value: str, label: str) -> str:
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise forms.ValidationError(f"{label} must not contain control characters.")
    return value


class SyslogForm(ConfigForm):
    host = forms.CharField(max_length=255, help_text="Syslog server host name or IP address (no scheme, no port).")
    port = forms.IntegerField(
        min_value=1, max_value=65535, required=False, help_text="Default 514 (UDP/TCP) or 6514 (TLS)."
    )
    protocol = forms.ChoiceField(
        choices=[("tls", "TLS (RFC 5425)"), ("tcp", "TCP (RFC 6587)"), ("udp", "UDP (RFC 5426)")],
        required=False, initial="tls",
        help_text="TLS is recommended; plain TCP and UDP send events unencrypted.",
    )  # fmt: skip
    format = forms.ChoiceField(
        choices=[("rfc5424", "RFC 5424 with JSON body"), ("cef", "CEF (ArcSight)"), ("leef", "LEEF 2.0 (QRadar)")],
        required=False, initial="rfc5424",
    )  # fmt: skip
    facility = forms.CharField(
        required=False, initial="local0", help_text="Syslog facility: local0..local7, auth, ... or 0-23."
    )
    framing = forms.ChoiceField(
        choices=[("octet-counting", "Octet counting (RFC 6587 / 5425)"), ("lf", "Newline (LF) terminated")],
        required=False, initial="octet-counting", help_text="TCP and TLS only; UDP sends one message per datagram.",
    )  # fmt: skip
    hostname = forms.CharField(
        required=False, max_length=255, help_text="HOSTNAME in the syslog header; default: this machine's name."
    )
    udp_max_bytes = forms.IntegerField(
        required=False, min_value=480, max_value=65000, initial=rfc5424.UDP_MAX_BYTES,
        help_text="UDP only: longer messages are cut, with a visible marker (RFC 5426 receivers SHOULD accept 2048).",
    )  # fmt: skip
    ca_bundle = PemField(
        marker="-----BEGIN CERTIFICATE-----",
        help_text="TLS: PEM CA certificate(s) that signed the server's certificate; empty = system store.",
    )
    client_cert = PemField(marker="-----BEGIN CERTIFICATE-----", help_text="Mutual TLS: PEM client certificate.")
    client_key = PemField(
        marker="PRIVATE KEY-----",
        help_text="Mutual TLS: PEM private key (unencrypted). Stored encrypted; never shown again.",
    )
    device_vendor = forms.CharField(required=False, max_length=63, initial="siemhub")
    device_product = forms.CharField(required=False, max_length=63, initial="siemhub")
    device_version = forms.CharField(required=False, max_length=31, initial=siemhub.__version__)

    def clean_host(self) -> str:
        host = _no_controls((self.cleaned_data.get("host") or "").strip().strip("[]"), "The host")
        if not host or any(ch in host for ch in " /@?#") or "://" in host:
            raise forms.ValidationError("Enter a host name or IP address only, e.g. siem.example.com or 10.0.0.5.")
        return host

    def clean_facility(self) -> str:
        value = (self.cleaned_data.get("facility") or "local0").strip().lower()
        try:
            rfc5424.facility_code(value)
        except ValueError as exc:
            raise forms.ValidationError(f"{exc}: use local0..local7, auth, authpriv, daemon, ... or 0-23.") from None
        return value

    def clean_hostname(self) -> str:
        value = (self.cleaned_data.get("hostname") or "").strip()
        if value and rfc5424.header_token(value, 255) != value:
            raise forms.ValidationError("Use printable ASCII without spaces (RFC 5424 HOSTNAME).")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["protocol"] = data.get("protocol") or "tls"
        data["format"] = data.get("format") or "rfc5424"
        data["framing"] = data.get("framing") or "octet-counting"
        for field in ("device_vendor", "device_product", "device_version"):
            value = data.get(field) or ""
            if any(ch in value for ch in "|\\^") or any(ord(ch) < 32 for ch in value):
                self.add_error(field, "Must not contain |, \\, ^ or control characters (CEF/LEEF header).")
        tls_fields = [f for f in ("ca_bundle", "client_cert", "client_key") if data.get(f)]
        if data["protocol"] != "tls" and tls_fields:
            self.add_error(tls_fields[0], "Only used with the TLS protocol.")
        elif data.get("client_key") and not data.get("client_cert"):
            self.add_error("client_cert", "A client key needs its client certificate.")
        elif data["protocol"] == "tls":  # load what was pasted now, rather than fail on the first delivery
            for field, material in (("ca_bundle", (data.get("ca_bundle"),)),
                                    ("client_key", ("", data.get("client_cert"), data.get("client_key")))):  # fmt: skip
                if any(material) and field not in self.errors and (field != "client_key" or material[2]):
                    try:
                        client_context(*(m or "" for m in material))
                    except SyslogError as exc:
                        self.add_error(field, str(exc))
        return data


class SyslogConnector(Connector):
    """One RFC 5424 message per event, framed for the configured protocol."""

    type = "syslog"
    label = "Syslog (CEF / LEEF / RFC 5424)"
    config_form = SyslogForm
    secret_fields = ("client_key",)
    limits = Limits(max_events=500, max_bytes=1_000_000, timeout_s=10.0)
    transport = "syslog"
    example_url = "siem.example.com (port 6514 for TLS, 514 for TCP/UDP)"

    def __init__(self, *, config: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
        super().__init__(config=config, secrets=secrets)
        self.protocol = self.config.get("protocol") or "tls"
        self.format = self.config.get("format") or "rfc5424"
        self.framing = self.config.get("framing") or "octet-counting"
        self.hostname = self.config.get("hostname") or socket.gethostname()
        self.truncated_events = 0  # UDP messages this instance had to cut
        # A config that bypassed the form must not crash the worker nor dead-letter events: it
        # becomes a RETRY with this sentence (see build_requests), so fixing it delivers them.
        self.config_error = ""
        try:
            self.facility = rfc5424.facility_code(self.config.get("facility"))
            self.udp_max_bytes = int(self.config.get("udp_max_bytes") or rfc5424.UDP_MAX_BYTES)
            self.port = int(self.config.get("port") or DEFAULT_PORT.get(self.protocol, 514))
            if self.protocol not in PROTOCOLS or self.format not in FORMATS or self.framing not in rfc5424.FRAMINGS:
                raise ValueError(f"protocol {self.protocol!r}, format {self.format!r}, framing {self.framing!r}")
        except (TypeError, ValueError) as exc:
            self.facility, self.udp_max_bytes, self.port = 16, rfc5424.UDP_MAX_BYTES, 514
            self.config_error = f"The syslog configuration is invalid ({exc}): fix it in Settings → SIEM"[:256]

    def payload(self, event: Mapping[str, Any]) -> bytes:
        """The MSG part for the configured format (UTF-8, no BOM)."""
        device = {
            "vendor": self.config.get("device_vendor") or "siemhub",
            "product": self.config.get("device_product") or "siemhub",
            "version": self.config.get("device_version") or siemhub.__version__,
        }
        if self.format == "cef":
            return cef.encode(event, **device).encode("utf-8")
        if self.format == "leef":
            return leef.encode(event, **device).encode("utf-8")
        return dumps(render(event, self.config.get("schema")))

    def message(self, event: Mapping[str, Any]) -> tuple[bytes, bool]:
        """The framed message of one event (a datagram for UDP) and whether it was truncated."""
        sd = "-"
        if self.format == "rfc5424":
            sd = rfc5424.structured_data({
                "eventId": str(event["id"]), "type": str(event["type"]),
                "severity": str(event.get("severity") or "info"),
                "orgId": str(event["org_id"]) if event.get("org_id") not in (None, "") else None,
            })  # fmt: skip
        fields = {
            "prival": rfc5424.pri(self.facility, event.get("severity")),
            "timestamp": iso_utc(parse_iso(event["timestamp"])),
            "hostname": self.hostname,
            "msgid": rfc5424.msgid_for(str(event["type"])),
        }
        head_sd = rfc5424.head(structured_data=sd, **fields)
        msg = self.payload(event)
        if self.protocol == "udp":
            return rfc5424.fit_datagram(head_sd, rfc5424.head(structured_data="-", **fields), msg, self.udp_max_bytes)
        return rfc5424.frame(rfc5424.message(head_sd, msg), self.framing), False

    def build_requests(self, events: Sequence[Mapping[str, Any]]) -> list[OutboundRequest]:
        if self.config_error:  # nothing is sent; parse_response turns it into a RETRY
            ids = tuple(str(e["id"]) for e in events)
            return [OutboundRequest(body=b"", event_ids=ids, headers={CONFIG_ERROR_HEADER: self.config_error})]
        encoded: list[tuple[str, bytes]] = []
        cut: set[str] = set()
        for event in events:
            frame, truncated = self.message(event)
            encoded.append((str(event["id"]), frame))
            if truncated:
                cut.add(str(event["id"]))
        if cut:
            self.truncated_events += len(cut)
            UDP_TRUNCATIONS.add(len(cut))
        url = f"syslog+{self.protocol}://{self.config.get('host', '')}:{self.port}"
        requests = []
        for group in chunk_encoded(encoded, max_events=self.limits.max_events, max_bytes=self.limits.max_bytes):
            frames = tuple(frame for _, frame in group)
            count = sum(1 for event_id, _ in group if event_id in cut)
            requests.append(
                OutboundRequest(
                    body=b"".join(frames),
                    frames=frames,
                    url=url,
                    method="SEND",
                    event_ids=tuple(event_id for event_id, _ in group),
                    headers={TRUNCATED_HEADER: str(count)} if count else {},
                )  # fmt: skip
            )
        return requests

    def parse_response(self, request: OutboundRequest, response: TransportResponse) -> SendResult:
        if request.headers.get(CONFIG_ERROR_HEADER):
            return SendResult(Outcome.RETRY, detail=request.headers[CONFIG_ERROR_HEADER])
        if response.error:
            return SendResult(Outcome.RETRY, detail=self.describe_error(response))
        count = int(request.headers.get(TRUNCATED_HEADER, "0") or 0)
        detail = ""
        if count:
            detail = (f"{count} message(s) longer than {self.udp_max_bytes} bytes were truncated to fit a UDP "
                      f"datagram (they end with '…[truncated]'); use TCP or TLS to send them whole")  # fmt: skip
        return SendResult(Outcome.OK, detail=detail)

    def describe_error(self, response: TransportResponse) -> str:
        return (response.error or f"Could not send to the syslog server {self.config.get('host', '')}")[:256]

    def transport_options(self) -> dict[str, Any]:
        tls = self.protocol == "tls"
        return {
            "host": self.config.get("host") or "",
            "port": self.port,
            "protocol": self.protocol,
            "timeout": self.timeout,
            "ca_bundle": (self.config.get("ca_bundle") or "") if tls else "",
            "client_cert": (self.config.get("client_cert") or "") if tls else "",
            "client_key": (self.secrets.get("client_key") or "") if tls else "",
        }
