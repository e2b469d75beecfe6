"""End to end: the syslog connector and transport against a real rsyslogd on 127.0.0.1.

Every format (CEF, LEEF 2.0, RFC 5424 JSON) over every protocol (UDP, TCP, TLS), mutual TLS,
the errors an admin sees, reconnects after a server restart, and the Test button path. What
rsyslog received is compared byte for byte with what was sent and parsed with the strict
parsers in tests/receivers/rsyslog.py. Each xdist worker runs its own rsyslogd.
"""

from __future__ import annotations

import json
import os
import socket
import uuid

import pytest

from delivery.connectors.base import Outcome
from delivery.connectors.syslog import PRESETS, UDP_TRUNCATIONS, SyslogConnector
from delivery.formats import cef, leef
from delivery.formats.schema import render
from delivery.transports.syslog import SyslogTransport
from tests.delivery.connectors.test_syslog import EVENTS, HOSTILE, RAW_HOSTILE
from tests.receivers.rsyslog import (
    RSYSLOGD,
    RsyslogReceiver,
    deframe_octet_counting,
    free_port,
    make_pki,
    parse_cef,
    parse_leef,
    parse_rfc5424,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not os.path.exists(RSYSLOGD), reason=f"{RSYSLOGD} is not installed (apt-get install rsyslog rsyslog-openssl)"
    ),
]
PROTOCOL_INPUT = {"udp": "udp", "tcp": "tcp", "tls": "tls"}


@pytest.fixture(scope="session")
def rsyslog():
    with RsyslogReceiver() as receiver:
        yield receiver


def make_sender(receiver: RsyslogReceiver, *, protocol: str, port_name: str | None = None, **config):
    """A connector whose messages carry a unique HOSTNAME (to find them), and its transport."""
    host_tag = "t" + uuid.uuid4().hex[:16]
    tls = {"ca_bundle": receiver.pki["ca"]} if protocol == "tls" else {}
    conf = {"host": "127.0.0.1", "port": receiver.ports[port_name or protocol], "protocol": protocol,
            "hostname": host_tag, "device_version": "1.2.3", "timeout": 5, **tls, **config}  # fmt: skip
    secrets = {"client_key": conf.pop("client_key")} if "client_key" in conf else {}
    conn = SyslogConnector(config=conf, secrets=secrets)
    transport = SyslogTransport(**conn.transport_options())
    transport.tls_settle_s = 3  # a TLS 1.3 rejection can come late on a loaded machine (returns at once on success)
    return conn, transport, host_tag


def deliver(conn: SyslogConnector, transport: SyslogTransport, events) -> list:
    results = []
    for request in conn.build_requests(events):
        results.append(conn.parse_response(request, transport.send(request)))
    return results


def unique(events):
    """The sample events with fresh ids, so that runs and parametrizations never mix."""
    out = [{**e, "id": str(uuid.uuid4())} for e in events]
    out.append({**RAW_HOSTILE, "id": RAW_HOSTILE["id"] + uuid.uuid4().hex})
    return out


def sent_messages(conn: SyslogConnector, events) -> list[bytes]:
    """The SYSLOG-MSGs as sent (framing removed)."""
    frames = [f for r in conn.build_requests(events) for f in r.frames]
    if conn.protocol == "udp":
        return frames
    if conn.framing == "lf":
        return [f[:-1] for f in frames]
    return deframe_octet_counting(b"".join(frames))


@pytest.mark.parametrize("protocol", ["udp", "tcp", "tls"])
@pytest.mark.parametrize("fmt", ["cef", "leef", "rfc5424"])
def test_every_format_over_every_protocol(rsyslog, protocol, fmt):
    conn, transport, tag = make_sender(rsyslog, protocol=protocol, format=fmt)
    events = unique(EVENTS)
    results = deliver(conn, transport, events)
    assert [(r.outcome, r.detail) for r in results] == [(Outcome.OK, "")]
    received = rsyslog.wait_for(lambda m: m["host"] == tag, len(events))
    transport.close()
    assert len(received) == len(events), rsyslog.log()[-2000:]
    by_raw = {m["raw"].encode("utf-8", "surrogateescape"): m for m in received}
    for event, message in zip(events, sent_messages(conn, events), strict=True):
        got = by_raw[message]  # the exact bytes arrived (UDP may reorder, so looked up by content)
        assert got["input"] == PROTOCOL_INPUT[protocol]
        assert int(got["pri"]) == 128 + {"info": 6, "low": 5, "medium": 4, "high": 3, "critical": 2}[event["severity"]]
        parsed = parse_rfc5424(got["raw"])
        assert parsed["msg"] == got["msg"]  # rsyslog found the same MSG boundary
        if fmt == "cef":
            header, ext = parse_cef(got["msg"])
            assert ext == dict(cef.extension_pairs(event)) and header[4] == event["type"].replace("\n", " ")
            assert ext["externalId"] == event["id"] and ext["cat"] == event["type"]
        elif fmt == "leef":
            header, attrs = parse_leef(got["msg"])
            assert attrs == dict(leef.attributes(event)) and attrs["externalId"] == event["id"]
        else:
            assert got["msgid"] == parsed["msgid"]
            sd = parsed["sd"]["siemhub@32473"]
            assert (sd["eventId"], sd["type"], sd["severity"]) == (event["id"], event["type"], event["severity"])
            assert json.loads(got["msg"]) == json.loads(json.dumps(render(event, "native")))


def test_hostile_cef_fields_round_trip_through_rsyslog(rsyslog):
    conn, transport, tag = make_sender(rsyslog, protocol="tls", format="cef")
    event = {**EVENTS[3], "id": str(uuid.uuid4())}
    deliver(conn, transport, [event])
    [got] = rsyslog.wait_for(lambda m: m["host"] == tag, 1)
    header, ext = parse_cef(got["msg"])
    assert header[5] == ("SQLi " + HOSTILE).replace("\n", " ").replace("\r", " ")
    assert ext["msg"] == HOSTILE and ext["suser"] == 'eve" ] [x cs1=evil'
    assert ext["cs1Label"] == "orgId" and ext["cs1"] == 'org "x"]\\' and ext["shost"] == "not-an-ip|host"
    assert json.loads(ext["cs6"])["payload"] == "a=b c=d\\n"


@pytest.mark.parametrize("protocol", ["tcp", "tls"])
def test_octet_counting_with_multibyte_text_keeps_messages_whole(rsyslog, protocol):
    conn, transport, tag = make_sender(rsyslog, protocol=protocol, format="rfc5424")
    events = [{**EVENTS[4], "id": str(uuid.uuid4()), "data": {"message": "€🙂日" * n}} for n in (1, 700, 3000, 5)]
    deliver(conn, transport, events)
    received = rsyslog.wait_for(lambda m: m["host"] == tag, 4)
    assert [m["raw"].encode() for m in received] == sent_messages(conn, events)


@pytest.mark.parametrize(("fmt", "extra"), [("leef", PRESETS["qradar"]), ("rfc5424", {"framing": "lf"})])
def test_lf_framing(rsyslog, fmt, extra):
    config = {**extra, "format": fmt, "port": rsyslog.ports["tcp"]}
    conn, transport, tag = make_sender(rsyslog, **{"protocol": "tcp", **config})
    events = unique(EVENTS)
    deliver(conn, transport, events)
    received = rsyslog.wait_for(lambda m: m["host"] == tag, len(events))
    assert [m["raw"].encode() for m in received] == sent_messages(conn, events)
    if fmt == "rfc5424":  # the LF inside the hostile type arrived as a space, not as a second message
        assert parse_rfc5424(received[-1]["raw"])["sd"]["siemhub@32473"]["type"] == RAW_HOSTILE["type"].replace(
            "\n", " "
        )


def test_udp_truncation_is_visible_counted_and_parseable(rsyslog):
    conn, transport, tag = make_sender(rsyslog, protocol="udp", format="cef")
    before = UDP_TRUNCATIONS.value
    event = {**EVENTS[3], "id": str(uuid.uuid4()), "data": {"message": HOSTILE * 50, "user": "alice"}}
    [result] = deliver(conn, transport, [event])
    assert result.outcome is Outcome.OK and "1 message(s) longer than 2048 bytes were truncated" in result.detail
    assert conn.truncated_events == 1 and UDP_TRUNCATIONS.value == before + 1
    [got] = rsyslog.wait_for(lambda m: m["host"] == tag, 1)
    assert len(got["raw"].encode()) <= 2048 and got["raw"].endswith("…[truncated]")
    _, ext = parse_cef(got["msg"])
    assert ext["externalId"] == event["id"] and ext["suser"] == "alice" and ext["msg"].endswith("…[truncated]")


def test_mutual_tls(rsyslog, tmp_path):
    pki = rsyslog.pki
    conn, transport, tag = make_sender(rsyslog, protocol="tls", port_name="mtls", format="cef",
                                 client_cert=pki["client_cert"], client_key=pki["client_key"])  # fmt: skip
    assert [r.outcome for r in deliver(conn, transport, [EVENTS[0]])] == [Outcome.OK]
    assert rsyslog.wait_for(lambda m: m["host"] == tag, 1)[0]["input"] == "mtls"

    _, anonymous, _ = make_sender(rsyslog, protocol="tls", port_name="mtls")
    error = anonymous.send(conn.build_requests([EVENTS[0]])[0]).error
    mtls = f"127.0.0.1:{rsyslog.ports['mtls']}"
    assert error == f"{mtls} requires a client certificate (mutual TLS): set client_cert and client_key"

    stranger = make_pki(tmp_path)
    _, foreign, _ = make_sender(
        rsyslog,
        protocol="tls",
        port_name="mtls",
        client_cert=stranger["client_cert"],
        client_key=stranger["client_key"],
    )
    error = foreign.send(conn.build_requests([EVENTS[0]])[0]).error
    assert error.startswith(f"{mtls} rejected the client certificate (TLS alert:")
    assert "PRIVATE" not in error and stranger["client_key"] not in error


def test_tls_errors_an_admin_can_act_on(rsyslog, tmp_path):
    request = SyslogConnector(config={"host": "127.0.0.1"}, secrets={}).build_requests([EVENTS[0]])[0]
    port = rsyslog.ports["tls"]
    wrong_ca = SyslogTransport(host="127.0.0.1", port=port, protocol="tls", ca_bundle=make_pki(tmp_path)["ca"])
    assert wrong_ca.send(request).error.startswith(f"TLS certificate verification failed for 127.0.0.1:{port}: ")
    system_store = SyslogTransport(host="127.0.0.1", port=port, protocol="tls")
    assert "self-signed certificate in certificate chain" in system_store.send(request).error
    plain = SyslogTransport(
        host="127.0.0.1", port=rsyslog.ports["tcp"], protocol="tls", ca_bundle=rsyslog.pki["ca"], timeout=1
    )
    assert (
        plain.send(request).error
        == f"No TLS answer from 127.0.0.1:{rsyslog.ports['tcp']} within 1 s: is this a TLS syslog port?"
    )
    not_plain = SyslogTransport(host="127.0.0.1", port=port, protocol="tcp", timeout=5)
    not_plain.first_write_wait_s = 3  # returns as soon as the server drops us
    assert not_plain.send(request).error.startswith(
        f"127.0.0.1:{port} closed the connection right after the first message"
    )


@pytest.mark.parametrize("protocol", ["tcp", "tls"])
def test_restart_reconnects_and_loses_nothing(protocol):
    with RsyslogReceiver() as receiver:
        conn, transport, tag = make_sender(receiver, protocol=protocol, format="rfc5424")
        a, b, c, d = ({**EVENTS[n], "id": str(uuid.uuid4())} for n in range(4))
        assert deliver(conn, transport, [a])[0].outcome is Outcome.OK
        assert receiver.wait_for(lambda m: m["host"] == tag, 1)
        receiver.stop()
        receiver.start()  # same ports: the cached connection is now dead
        assert deliver(conn, transport, [b])[0].outcome is Outcome.OK  # detected before writing
        assert transport.connects == 2
        # Let rsyslogd take b before stopping it: data still in its socket buffer when it stops is
        # lost, which no syslog sender can notice (no acknowledgement; RELP exists for that).
        assert len(receiver.wait_for(lambda m: m["host"] == tag, 2)) == 2
        receiver.stop()
        down = deliver(conn, transport, [c])[0]
        assert (
            down.outcome is Outcome.RETRY
            and down.detail == f"Connection refused by 127.0.0.1:{receiver.ports[protocol]}"
        )
        receiver.start()
        assert [r.outcome for r in deliver(conn, transport, [c, d])] == [Outcome.OK]  # the engine's retry
        received = receiver.wait_for(lambda m: m["host"] == tag, 4)
        assert [parse_rfc5424(m["raw"])["sd"]["siemhub@32473"]["eventId"] for m in received] == [
            a["id"],
            b["id"],
            c["id"],
            d["id"],
        ]
        transport.close()


@pytest.mark.django_db
def test_test_button_path(rsyslog, monkeypatch):
    from delivery.sender import integration_send_test
    from delivery.transports import syslog as syslog_transport

    monkeypatch.setattr(syslog_transport, "UDP_ICMP_WAIT_S", 2.0)  # returns at once when the ICMP error is there
    from tests.conftest import make_integration

    config = {"host": "127.0.0.1", "port": rsyslog.ports["tls"], "protocol": "tls", "format": "cef",
              "ca_bundle": rsyslog.pki["ca"], "hostname": "test-button-" + uuid.uuid4().hex[:8]}  # fmt: skip
    ok, message = integration_send_test(make_integration("syslog", config=config))
    assert ok, message
    [got] = rsyslog.wait_for(lambda m: m["host"] == config["hostname"], 1)
    assert parse_cef(got["msg"])[1]["cat"] == "siem.test"

    for protocol, kind in (("tcp", socket.SOCK_STREAM), ("udp", socket.SOCK_DGRAM)):
        port = free_port(kind)
        ok, message = integration_send_test(make_integration("syslog", config={"host": "127.0.0.1", "port": port,
                                                                               "protocol": protocol}))  # fmt: skip
        assert not ok
        assert message == (f"Connection refused by 127.0.0.1:{port}" if protocol == "tcp"
                           else f"127.0.0.1:{port} is not accepting UDP syslog (ICMP port unreachable)")  # fmt: skip
