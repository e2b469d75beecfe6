"""Cortex XSIAM HTTP collector: standard and advanced auth, JSON lines with raw_ocsf, compression."""

from __future__ import annotations

import gzip
import hashlib
import json
import time

import pytest

from delivery.connectors import get_connector
from delivery.connectors.base import Outcome
from delivery.connectors.xsiam import XsiamConnector, XsiamForm, advanced_auth, random_nonce
from tests.delivery.connectors.siem_support import (
    EVENTS,
    assert_golden,
    assert_split_invariants,
    fake_ocsf,  # noqa: F401  (fixture)
    fake_to_ocsf,
    make_event,
    real_ocsf_available,
    response,
    send_all,
)
from tests.receivers.xsiam import XsiamReceiver

KEY = "QmFzZTY0LWxvb2tpbmctY29sbGVjdG9yLWtleS1mb3ItdGVzdHM"
KEY_ID = "42"

pytestmark = pytest.mark.usefixtures("fake_ocsf")


def connector(url: str = "https://api-acme.xdr.us.paloaltonetworks.com", key: str = KEY, fixed: bool = True, **config: object) -> XsiamConnector:
    conn = XsiamConnector(config={"url": url, **config}, secrets={"api_key": key})
    if fixed:
        conn.clock = lambda: 1717171717.9  # type: ignore[method-assign]
        nonces = iter(["a" * 64, "b" * 64, "c" * 64, "d" * 64])
        conn.nonce_source = lambda: next(nonces)  # type: ignore[method-assign]
    return conn


def test_registered() -> None:
    assert get_connector("xsiam") is XsiamConnector
    assert XsiamConnector.secret_fields == ("api_key",)


def test_worked_example_from_wire_formats() -> None:
    # WIRE-FORMATS.md §6: key EXAMPLEKEY, nonce "a"*64, ts 1717171717000.
    assert advanced_auth("EXAMPLEKEY", "a" * 64, "1717171717000") == "2ee9f7d69b2870ba73d267fa787418e7f94ad7c7fb5cb4432549bbe53a5123b2"
    conn = connector(key="EXAMPLEKEY", auth_mode="advanced", api_key_id=KEY_ID)
    [req] = conn.build_requests(EVENTS[:1])
    assert req.headers["Authorization"] == "2ee9f7d69b2870ba73d267fa787418e7f94ad7c7fb5cb4432549bbe53a5123b2"
    assert req.headers["x-xdr-timestamp"] == "1717171717000"  # whole seconds × 1000, as the vendor sample
    assert req.headers["x-xdr-nonce"] == "a" * 64 and req.headers["x-xdr-auth-id"] == KEY_ID


def test_random_nonce_shape() -> None:
    nonces = {random_nonce() for _ in range(50)}
    assert len(nonces) == 50
    assert all(len(n) == 64 and n.isascii() and n.isalnum() for n in nonces)


def test_golden_lines_standard_auth() -> None:
    conn = connector(log_type="siemhub_events", dataset="siemhub_siemhub_raw")
    [req] = conn.build_requests(EVENTS)
    plain = gzip.decompress(req.body)
    assert_golden("xsiam.ndjson", plain)
    lines = plain.split(b"\n")
    assert len(lines) == len(plain.decode().splitlines()) == len(EVENTS)
    first = json.loads(lines[0])
    assert first["raw_ocsf"] == fake_to_ocsf(EVENTS[0])
    assert first["log_type"] == "siemhub_events" and first["dataset"] == "siemhub_siemhub_raw"
    assert req.url == "https://api-acme.xdr.us.paloaltonetworks.com/logs/v1/event"
    assert req.headers == {"Content-Type": "application/json", "Content-Encoding": "gzip", "Authorization": KEY}


def test_no_compression_and_key_id_in_standard_mode() -> None:
    [req] = connector(compression="none", api_key_id=KEY_ID).build_requests(EVENTS[:2])
    assert "Content-Encoding" not in req.headers and req.body.startswith(b'{"id":')
    assert req.headers["Authorization"] == KEY and req.headers["x-xdr-auth-id"] == KEY_ID


def test_each_request_gets_its_own_nonce() -> None:
    events = [make_event(i) for i in range(2500)]
    requests = connector(auth_mode="advanced", api_key_id=KEY_ID).build_requests(events)
    assert [len(r.event_ids) for r in requests] == [1000, 1000, 500]
    assert [r.headers["x-xdr-nonce"] for r in requests] == ["a" * 64, "b" * 64, "c" * 64]
    for req in requests:
        digest = hashlib.sha256((KEY + req.headers["x-xdr-nonce"] + req.headers["x-xdr-timestamp"]).encode()).hexdigest()
        assert req.headers["Authorization"] == digest
    assert_split_invariants(requests, events)


def test_split_by_bytes_never_truncates() -> None:
    # data appears twice per line (data + raw_ocsf.unmapped): ~1.2 MB per line, 4 per request.
    events = [make_event(i, payload_size=600_000) for i in range(9)] + [make_event(99, payload_size=4_000_000)]
    requests = connector(fixed=False).build_requests(events)
    assert_split_invariants(requests, events)
    assert [len(r.event_ids) for r in requests] == [4, 4, 1, 1]
    assert all(len(gzip.decompress(r.body)) <= 5_000_000 for r in requests[:-1])
    assert json.loads(gzip.decompress(requests[-1].body))["data"]["pad"] == "x" * 4_000_000


def test_form() -> None:
    base = {"url": "https://api-acme.xdr.us.paloaltonetworks.com/logs/v1/event", "api_key": KEY}
    form = XsiamForm(data=base)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["auth_mode"] == "standard" and form.cleaned_data["compression"] == "gzip"
    assert not XsiamForm(data={**base, "auth_mode": "advanced"}).is_valid()  # needs the key id
    assert not XsiamForm(data={**base, "api_key_id": "abc"}).is_valid()
    assert XsiamForm(data={**base, "auth_mode": "advanced", "api_key_id": KEY_ID}).is_valid()


def test_parse_responses() -> None:
    conn = connector()
    [req] = conn.build_requests(EVENTS[:2])
    assert conn.parse_response(req, response(200, json.dumps({"ok": "true"}))).outcome is Outcome.OK
    r = conn.parse_response(req, response(401, json.dumps({"error": "Failed to validate authentication detail"})))
    assert r.outcome is Outcome.RETRY
    assert r.detail == "HTTP 401: Cortex XSIAM rejected the API key: check api_key (the collector's key) (Failed to validate authentication detail)"
    r = conn.parse_response(req, response(413, b""))
    assert r.outcome is Outcome.DEAD and r.splittable
    r = conn.parse_response(req, response(400, json.dumps({"error": "bad"})))
    assert r.outcome is Outcome.DEAD and r.splittable and "compression" in r.detail
    r = conn.parse_response(req, response(429, b"", {"Retry-After": "5"}))
    assert r.outcome is Outcome.RETRY and r.retry_after_s == 5
    r = conn.parse_response(req, response(500, "Unexpected error while processing bulk load request"))
    assert r.outcome is Outcome.RETRY and "Unexpected error" in r.detail


def test_no_secret_in_details() -> None:
    for conn in (connector(), connector(auth_mode="advanced", api_key_id=KEY_ID)):
        [req] = conn.build_requests(EVENTS[:1])
        echo = json.dumps({"error": f"bad key {KEY}; Authorization: {req.headers['Authorization']}"})
        for code in (400, 401, 403, 413, 429, 500):
            assert KEY not in conn.parse_response(req, response(code, echo)).detail
        assert KEY not in conn.describe_error(response(401, f"Authorization={KEY}"))


# -- real HTTP round trips (real clock and nonces: the receiver checks skew and replays) ---


@pytest.mark.parametrize("compression", ["gzip", "none"])
def test_round_trip_standard(compression: str) -> None:
    with XsiamReceiver(api_key=KEY, compression=compression) as xs:
        [(_, resp, result)] = send_all(connector(xs.url, fixed=False, compression=compression), EVENTS)
        assert resp.status_code == 200 and result.outcome is Outcome.OK, result.detail
        assert [log["id"] for log in xs.logs] == [e["id"] for e in EVENTS]
        assert xs.logs[1]["data"]["note"] == "line1\nline2\r\nline3\ttab"


def test_round_trip_advanced() -> None:
    with XsiamReceiver(api_key=KEY, api_key_id=KEY_ID, auth_mode="advanced") as xs:
        conn = connector(xs.url, fixed=False, auth_mode="advanced", api_key_id=KEY_ID)
        results = send_all(conn, [make_event(i) for i in range(1500)])
        assert [r.outcome for _, _, r in results] == [Outcome.OK, Outcome.OK]
        assert len(xs.seen_nonces) == 2 and len(xs.logs) == 1500


def test_round_trip_auth_failures_decoded() -> None:
    with XsiamReceiver(api_key=KEY, api_key_id=KEY_ID, auth_mode="advanced") as xs:
        wrong = connector(xs.url, key="not-the-key", fixed=False, auth_mode="advanced", api_key_id=KEY_ID)
        [(_, resp, result)] = send_all(wrong, EVENTS[:1])
        assert resp.status_code == 401 and result.outcome is Outcome.RETRY
        assert "Failed to validate authentication detail" in result.detail and "clock" in result.detail
        stale = connector(xs.url, fixed=False, auth_mode="advanced", api_key_id=KEY_ID)
        stale.clock = lambda: time.time() - 3600  # type: ignore[method-assign]
        [(_, resp, _)] = send_all(stale, EVENTS[:1])
        assert resp.status_code == 401
        # A replayed request (same nonce) is refused too.
        replay = connector(xs.url, fixed=False, auth_mode="advanced", api_key_id=KEY_ID)
        replay.nonce_source = lambda: "R" * 64  # type: ignore[method-assign]
        assert send_all(replay, EVENTS[:1])[0][1].status_code == 200
        assert send_all(replay, EVENTS[1:2])[0][1].status_code == 401
        assert len(xs.logs) == 1


def test_round_trip_compression_mismatch_is_decoded() -> None:
    with XsiamReceiver(api_key=KEY, compression="none") as xs:
        [(_, resp, result)] = send_all(connector(xs.url, fixed=False, compression="gzip"), EVENTS[:1])
        assert resp.status_code == 400 and "compression" in result.detail


@pytest.mark.skipif(not real_ocsf_available(), reason="delivery/formats/ocsf.py not written yet")
def test_raw_ocsf_is_the_real_ocsf_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.delitem(sys.modules, "delivery.formats.ocsf")
    from delivery.formats.ocsf import to_ocsf

    [req] = connector().build_requests(EVENTS[:1])
    line = json.loads(gzip.decompress(req.body))
    assert line["raw_ocsf"] == json.loads(json.dumps(to_ocsf(EVENTS[0])))
