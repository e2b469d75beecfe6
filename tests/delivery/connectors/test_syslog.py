"""Syslog connector: golden bytes per format, framing, limits, UDP truncation, form, transport errors.

Golden files live in tests/golden/syslog_*.txt; ``SIEMHUB_UPDATE_GOLDEN=1`` rewrites them (then
read the diff before committing). The transport tests here use small Python socket servers on
127.0.0.1; tests/e2e/test_rsyslog.py sends to a real rsyslogd.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from delivery.connectors import get_connector
from delivery.connectors.base import OutboundRequest, Outcome, TransportResponse
from delivery.connectors.syslog import PRESETS, UDP_TRUNCATIONS, SyslogConnector, SyslogForm
from delivery.formats import syslog as fmt
from delivery.normalize import normalize
from delivery.transports.syslog import SyslogTransport
from tests.receivers.rsyslog import deframe_octet_counting, free_port, make_pki, parse_cef, parse_leef, parse_rfc5424

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
HOSTILE = 'pipe| back\\slash eq= quote" bracket] nl\nnext cr\rend tab\there caret^ ünï €日本 🙂'

# Envelope-shaped inputs (as producers send them) normalized by the ingest code: one per
# severity, with hostile strings in every free-text place the envelope allows.
ENVELOPES = [
    {"event": "auth.login.succeeded", "id": "00000000-0000-4000-8000-000000000001",
     "timestamp": "2024-05-31T16:08:37.123Z",
     "data": {"severity": "info", "user": "alice", "src_ip": "10.0.0.5", "method": "password"}},
    {"event": "scan.completed", "id": "00000000-0000-4000-8000-000000000002", "timestamp": "2024-05-31T16:08:38Z",
     "data": {"severity": "low", "org_id": "acme", "scan_id": "s-1", "findings": 3, "duration_s": 12.5,
              "asset": {"id": "a-1", "name": "web-01", "type": "host", "tags": ["prod", "dmz"]}}},
    {"event": "transaction.denied", "id": "00000000-0000-4000-8000-000000000003",
     "timestamp": "2024-05-31T18:08:39.5+02:00",
     "data": {"severity": "medium", "subject": "bob@example.com", "ip": "2001:db8::1", "action": "deny",
              "reason": "risk score too high"}},
    {"event": "finding.new", "id": "00000000-0000-4000-8000-000000000004", "timestamp": "2024-05-31T16:08:40.000001Z",
     "data": {"severity": "high", "org_id": 'org "x"]\\', "title": "SQLi " + HOSTILE, "message": HOSTILE,
              "user": 'eve" ] [x cs1=evil', "src_ip": "not-an-ip|host", "dst_port": 443, "payload": "a=b c=d\\n",
              "asset": {"id": "db|01", "name": 'db "main"]', "type": "db", "tags": ["pci=yes", "a|b"]}}},
    {"event": "system.alert", "id": "00000000-0000-4000-8000-000000000005", "timestamp": "2024-05-31T16:08:41Z",
     "data": {"severity": "critical", "title": "Ünïcödé ☃ 日本語 🙂", "message": "€" * 5, "user": "Zoë",
              "action": "quarantine^now", "🙂 key": "tab\tvalue"}},
]  # fmt: skip
EVENTS = [normalize(e) for e in ENVELOPES]
# Canonical events that did not come through ingest validation: hostile type and id.
RAW_HOSTILE = {"id": 'id"]\\|=', "type": 'bad|type "x"]\n=', "timestamp": "2024-05-31T16:08:42Z",
               "severity": "high", "org_id": None, "asset": None, "data": {"message": HOSTILE}}  # fmt: skip
BASE_CONFIG = {"host": "127.0.0.1", "hostname": "gw-1", "device_version": "1.2.3"}


def connector(**config) -> SyslogConnector:
    return SyslogConnector(config={**BASE_CONFIG, **config}, secrets={})


def assert_golden(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get("SIEMHUB_UPDATE_GOLDEN") == "1":
        path.write_bytes(data)
    assert path.exists(), f"golden file {path} missing: run with SIEMHUB_UPDATE_GOLDEN=1 once"
    assert data == path.read_bytes(), f"bytes differ from {path}"


def all_frames(conn: SyslogConnector, events) -> list[bytes]:
    return [frame for req in conn.build_requests(events) for frame in req.frames]


@pytest.mark.parametrize(
    ("name", "config"),
    [("syslog_cef.txt", {"format": "cef", "protocol": "tcp"}),
     ("syslog_leef.txt", {**PRESETS["qradar"]}),
     ("syslog_rfc5424.txt", {"format": "rfc5424", "protocol": "tls"})],
)  # fmt: skip
def test_golden_bytes(name, config):
    [request] = connector(**config).build_requests([*EVENTS, RAW_HOSTILE])
    assert request.event_ids == tuple(str(e["id"]) for e in [*EVENTS, RAW_HOSTILE])
    assert request.body == b"".join(request.frames) and len(request.frames) == 6
    assert_golden(name, request.body)


def test_rfc5424_body_follows_the_schema():
    frames = deframe_octet_counting(
        connector(format="rfc5424", protocol="tcp", schema="ocsf").build_requests(EVENTS)[0].body
    )
    bodies = [json.loads(parse_rfc5424(f.decode())["msg"]) for f in frames]
    assert all("class_uid" in b and "metadata" in b for b in bodies)
    native = deframe_octet_counting(connector(format="rfc5424", protocol="tcp").build_requests(EVENTS)[0].body)
    assert [json.loads(parse_rfc5424(f.decode())["msg"])["event"] for f in native] == [e["type"] for e in EVENTS]


def test_golden_udp_datagrams_with_truncation():
    big = {**EVENTS[3], "id": "00000000-0000-4000-8000-000000000006", "data": {"message": HOSTILE * 40}}
    frames = all_frames(connector(format="cef", protocol="udp"), [*EVENTS, big])
    assert all(len(f) <= 2048 for f in frames) and frames[-1].endswith("…[truncated]".encode())
    # Stored octet-counted so that datagram boundaries are visible in the file.
    assert_golden("syslog_cef_udp.txt", b"".join(fmt.frame_octet_counting(f) for f in frames))


@pytest.mark.parametrize("fmt_name", ["cef", "leef", "rfc5424"])
def test_header_fields_of_every_message(fmt_name):
    frames = deframe_octet_counting(b"".join(all_frames(connector(format=fmt_name, protocol="tcp"), EVENTS)))
    for event, raw in zip(EVENTS, frames, strict=True):
        msg = parse_rfc5424(raw.decode())
        assert msg["pri"] == 16 * 8 + {"info": 6, "low": 5, "medium": 4, "high": 3, "critical": 2}[event["severity"]]
        assert (msg["timestamp"], msg["hostname"], msg["app"], msg["procid"]) == (
            event["timestamp"],
            "gw-1",
            "siemhub",
            "-",
        )
        assert msg["msgid"] == event["type"]
        if fmt_name == "rfc5424":
            assert msg["sd"]["siemhub@32473"]["eventId"] == event["id"]
            assert json.loads(msg["msg"])["id"] == event["id"]
        elif fmt_name == "cef":
            assert msg["sd"] == {} and parse_cef(msg["msg"])[1]["externalId"] == event["id"]
        else:
            assert parse_leef(msg["msg"])[1]["externalId"] == event["id"]


def test_hostile_event_fields_survive_exactly():
    frames = deframe_octet_counting(b"".join(all_frames(connector(format="cef", protocol="tcp"), EVENTS)))
    header, ext = parse_cef(parse_rfc5424(frames[3].decode())["msg"])
    assert header[5] == ("SQLi " + HOSTILE).replace("\n", " ").replace("\r", " ")
    assert ext["msg"] == HOSTILE and ext["suser"] == 'eve" ] [x cs1=evil' and ext["cs1"] == 'org "x"]\\'
    assert ext["shost"] == "not-an-ip|host" and ext["dpt"] == "443" and ext["cs2"] == 'db "main"]'
    assert json.loads(ext["cs5"]) == ["pci=yes", "a|b"]
    # The title has line breaks the header cannot carry, so cs6 keeps it exactly.
    assert json.loads(ext["cs6"]) == {"payload": "a=b c=d\\n", "title": "SQLi " + HOSTILE}
    raw = parse_rfc5424(connector(format="rfc5424", protocol="tcp").message(RAW_HOSTILE)[0].split(b" ", 1)[1].decode())
    assert (
        raw["sd"]["siemhub@32473"]["type"] == RAW_HOSTILE["type"]
        and raw["sd"]["siemhub@32473"]["eventId"] == RAW_HOSTILE["id"]
    )
    assert raw["msgid"] == 'bad|type_"x"]_='  # printable ASCII kept, space and LF replaced


def test_lf_framing_puts_one_message_per_line():
    frames = all_frames(connector(format="rfc5424", protocol="tcp", framing="lf"), [*EVENTS, RAW_HOSTILE])
    assert all(f.endswith(b"\n") and f.count(b"\n") == 1 for f in frames)


def test_requests_respect_event_and_byte_limits_in_order():
    small = [{**EVENTS[0], "id": f"00000000-0000-4000-8000-{n:012d}"} for n in range(1200)]
    requests = connector(format="cef", protocol="tcp").build_requests(small)
    assert [len(r.event_ids) for r in requests] == [500, 500, 200]
    assert [i for r in requests for i in r.event_ids] == [e["id"] for e in small]
    big = [
        {**EVENTS[0], "id": f"00000000-0000-4000-8000-{n:012d}", "data": {"message": "x" * 300_000}} for n in range(5)
    ]
    requests = connector(format="cef", protocol="tls").build_requests(big)
    assert [len(r.event_ids) for r in requests] == [3, 2] and all(len(r.body) <= 1_000_000 for r in requests)
    huge = [{**EVENTS[0], "data": {"message": "y" * 1_500_000}}]
    [request] = connector(format="cef", protocol="tcp").build_requests(huge)
    assert len(request.body) > 1_500_000 and "…[truncated]".encode() not in request.body  # TCP never truncates


def test_udp_truncation_is_counted_and_reported():
    conn = connector(format="rfc5424", protocol="udp", udp_max_bytes=600)
    before = UDP_TRUNCATIONS.value
    events = [EVENTS[0], {**EVENTS[3], "data": {"message": "€" * 1000}}, {**EVENTS[4], "data": {"message": "z" * 700}}]
    [request] = conn.build_requests(events)
    assert conn.truncated_events == 2 and UDP_TRUNCATIONS.value - before == 2
    assert [len(f) <= 600 for f in request.frames] == [True, True, True]
    request.frames[1].decode("utf-8")  # cut between characters, not inside one
    result = conn.parse_response(request, TransportResponse(status_code=None))
    assert result.outcome is Outcome.OK and "2 message(s) longer than 600 bytes were truncated" in result.detail
    clean = conn.build_requests([EVENTS[0]])[0]
    assert conn.parse_response(clean, TransportResponse(status_code=None)).detail == ""


def test_transport_errors_are_retried_with_the_sentence():
    conn = connector(protocol="tcp")
    request = conn.build_requests([EVENTS[0]])[0]
    result = conn.parse_response(
        request, TransportResponse(status_code=None, error="Connection refused by 127.0.0.1:9")
    )
    assert result.outcome is Outcome.RETRY and result.detail == "Connection refused by 127.0.0.1:9"


@pytest.mark.parametrize("field", ["id", "type", "org_id"])
@settings(max_examples=150, deadline=None)
@given(value=st.text(min_size=1))
def test_any_event_string_round_trips_through_structured_data(field, value):
    conn = connector(format="rfc5424", protocol="tls")
    event = {**EVENTS[1], field: value}
    [raw] = deframe_octet_counting(conn.message(event)[0])
    parsed = parse_rfc5424(raw.decode())
    expected = {"eventId": EVENTS[1]["id"], "type": EVENTS[1]["type"], "severity": "low", "orgId": "acme"}
    expected[{"id": "eventId", "type": "type", "org_id": "orgId"}[field]] = value
    assert parsed["sd"] == {"siemhub@32473": expected}
    assert parsed["msgid"] == fmt.msgid_for(event["type"]) and parsed["hostname"] == "gw-1"
    body = json.loads(parsed["msg"])
    assert body["id" if field == "id" else "event" if field == "type" else "org_id"] == value


@pytest.mark.parametrize(
    "bad", [{"protocol": "sctp"}, {"format": "json"}, {"facility": "local9"}, {"port": "x"}, {"framing": "nul"}]
)
def test_invalid_stored_config_is_retried_not_sent_nor_dead_lettered(bad):
    conn = connector(**bad)
    [request] = conn.build_requests(EVENTS[:2])
    assert request.frames == () and request.event_ids == (EVENTS[0]["id"], EVENTS[1]["id"])
    transport = SyslogTransport(**conn.transport_options())  # must not raise either
    result = conn.parse_response(request, transport.send(request))
    assert result.outcome is Outcome.RETRY and result.detail.startswith("The syslog configuration is invalid (")


def test_registry_and_transport_options():
    assert get_connector("syslog") is SyslogConnector
    assert SyslogConnector.secret_fields == ("client_key",) and SyslogConnector.transport == "syslog"
    tcp = SyslogConnector(config={"host": "h", "protocol": "tcp", "ca_bundle": "x"}, secrets={"client_key": "k"})
    assert tcp.transport_options() == {"host": "h", "port": 514, "protocol": "tcp", "timeout": 10.0,
                                       "ca_bundle": "", "client_cert": "", "client_key": ""}  # fmt: skip
    tls = SyslogConnector(config={"host": "h", "client_cert": "c"}, secrets={"client_key": "k"})
    assert tls.transport_options()["port"] == 6514 and tls.transport_options()["client_key"] == "k"


# -- config form --------------------------------------------------------------------------


def form(**data) -> SyslogForm:
    return SyslogForm(data={"host": "siem.example.com", **data})


def test_form_defaults():
    f = form()
    assert f.is_valid(), f.errors
    data = f.cleaned_data
    assert (data["protocol"], data["format"], data["framing"], data["facility"]) == (
        "tls",
        "rfc5424",
        "octet-counting",
        "local0",
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [({"host": "tcp://x"}, "host"), ({"host": "a b"}, "host"), ({"facility": "local9"}, "facility"),
     ({"protocol": "udp", "ca_bundle": "-----BEGIN CERTIFICATE-----\nx"}, "ca_bundle"),
     ({"ca_bundle": "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----"}, "ca_bundle"),
     ({"client_key": "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----"}, "client_cert"),
     ({"device_vendor": "a|b"}, "device_vendor"), ({"hostname": "my host"}, "hostname"), ({"port": 70000}, "port")],
)  # fmt: skip
def test_form_rejects(data, field):
    f = form(**data)
    assert not f.is_valid() and field in f.errors, f.errors


def test_form_checks_the_client_pair(tmp_path):
    pki, other = make_pki(tmp_path), make_pki(tmp_path)
    good = form(ca_bundle=pki["ca"], client_cert=pki["client_cert"], client_key=pki["client_key"])
    assert good.is_valid(), good.errors
    bad = form(client_cert=pki["client_cert"], client_key=other["client_key"])
    assert not bad.is_valid() and "client_key" in bad.errors
    assert other["client_key"] not in json.dumps(bad.errors)
    # An encrypted key is refused at once (the ssl module would otherwise prompt on a terminal).
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(pki["client_key"].encode(), None)
    locked = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pw")
    ).decode()
    encrypted = form(client_cert=pki["client_cert"], client_key=locked)
    assert not encrypted.is_valid() and "the key unencrypted" in encrypted.errors["client_key"][0]


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_presets_are_valid_configs(preset):
    assert form(**PRESETS[preset]).is_valid()


# -- transport against small local servers ------------------------------------------------


class LineServer:
    """A TCP server on 127.0.0.1 that records bytes per connection; ``drop()`` closes them."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.data: list[bytearray] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            buf = bytearray()
            self.conns.append(conn)
            self.data.append(buf)
            threading.Thread(target=self._read, args=(conn, buf), daemon=True).start()

    def _read(self, conn: socket.socket, buf: bytearray) -> None:
        while chunk := self._recv(conn):
            buf.extend(chunk)

    @staticmethod
    def _recv(conn: socket.socket) -> bytes:
        try:
            return conn.recv(65536)
        except OSError:
            return b""

    def drop(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(OSError):  # shutdown first: a plain close waits for the reader's recv
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def close(self) -> None:
        self.drop()
        self.sock.close()


def wait_until(check, timeout=5.0):
    """Poll ``check`` (which may raise while data is still arriving) until it is true."""
    import time

    def safe() -> bool:
        try:
            return bool(check())
        except (IndexError, ValueError):
            return False

    deadline = time.monotonic() + timeout
    while not safe() and time.monotonic() < deadline:
        time.sleep(0.01)
    return safe()


def test_connection_is_reused_and_a_closed_one_is_replaced():
    server = LineServer()
    try:
        conn = connector(protocol="tcp", port=server.port, format="cef")
        transport = SyslogTransport(**conn.transport_options())
        first, second, third = (conn.build_requests([e])[0] for e in EVENTS[:3])
        assert transport.send(first).error == "" and transport.send(second).error == ""
        assert transport.connects == 1
        assert wait_until(lambda: len(deframe_octet_counting(bytes(server.data[0]))) == 2)
        server.drop()  # the server goes away between batches: the next send must not vanish into it
        assert transport.send(third).error == ""
        assert transport.connects == 2
        assert wait_until(lambda: len(server.data) == 2 and bytes(server.data[1]) == third.body)
        transport.close()
    finally:
        server.close()


def test_refused_tcp_and_unreachable_udp_are_clear_errors():
    port = free_port(socket.SOCK_STREAM)
    tcp = SyslogTransport(host="127.0.0.1", port=port, protocol="tcp", timeout=2)
    response = tcp.send(OutboundRequest(body=b"x", frames=(b"1 x",)))
    assert response.status_code is None and response.error == f"Connection refused by 127.0.0.1:{port}"
    uport = free_port(socket.SOCK_DGRAM)
    udp = SyslogTransport(host="127.0.0.1", port=uport, protocol="udp", timeout=2)
    udp.udp_icmp_wait_s = 2  # returns as soon as the ICMP error is there; generous for a loaded CI
    error = udp.send(OutboundRequest(body=b"x", frames=(b"x",))).error
    assert error == f"127.0.0.1:{uport} is not accepting UDP syslog (ICMP port unreachable)"


def test_bad_client_key_error_holds_no_key_material(tmp_path):
    pki = make_pki(tmp_path)
    secret = "-----BEGIN PRIVATE KEY-----\nTOPSECRETKEYMATERIAL\n-----END PRIVATE KEY-----"
    transport = SyslogTransport(host="127.0.0.1", port=free_port(socket.SOCK_STREAM), protocol="tls",
                                client_cert=pki["client_cert"], client_key=secret)  # fmt: skip
    error = transport.send(OutboundRequest(body=b"x", frames=(b"1 x",))).error
    assert error.startswith("The client certificate and key could not be loaded")
    assert "TOPSECRET" not in error and "TOPSECRET" not in repr(transport)
