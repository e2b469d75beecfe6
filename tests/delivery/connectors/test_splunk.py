"""Splunk HEC: golden bytes, strict receiver round trip, HEC codes, indexer acknowledgement."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from delivery.connectors.base import Outcome, TransportResponse
from delivery.connectors.splunk import SplunkConnector, hec_url
from delivery.transports.http import HttpTransport
from tests.delivery.connectors.events import EVENTS
from tests.receivers.base import Reply
from tests.receivers.splunk import HecReceiver, parse_concatenated

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
TOKEN = "11111111-2222-3333-4444-555555555555"


def conn(**config):
    return SplunkConnector(config={"endpoint": "https://127.0.0.1:8088", "index": "security", "source": "siemhub",
                                   "host": "gw-1", **config}, secrets={"token": TOKEN})


@pytest.mark.parametrize("schema", ["native", "ocsf"])
def test_golden_bytes(schema):
    [req] = conn(schema=schema).build_requests(EVENTS)
    path = GOLDEN / f"splunk_{schema}.txt"
    assert req.body == path.read_bytes(), f"bytes differ from {path.name}"
    assert req.url == "https://127.0.0.1:8088/services/collector/event"
    assert req.headers == {"Authorization": f"Splunk {TOKEN}", "Content-Type": "application/json"}
    envelopes = parse_concatenated(req.body)
    assert [e["time"] for e in envelopes][:2] == [1717171717.123, 1717171718.0]
    assert b"E+" not in req.body and b"e+" not in req.body


def test_endpoint_forms():
    assert hec_url("https://s:8088") == "https://s:8088/services/collector/event"
    assert hec_url("https://s:8088/services/collector") == "https://s:8088/services/collector"
    assert hec_url("https://s:8088/services/collector/event/1.0") == "https://s:8088/services/collector/event/1.0"


def test_strict_receiver_accepts_our_requests_over_http():
    with HecReceiver(token=TOKEN) as hec:
        c = conn(endpoint=hec.url)
        transport = HttpTransport(timeout=5)
        for req in c.build_requests(EVENTS):
            result = c.parse_response(req, transport.send(req))
            assert result.outcome is Outcome.OK
        assert [e["event"]["id"] for e in hec.events] == [e["id"] for e in EVENTS]
        note = hec.events[3]["event"]["data"]["note"]
        assert note == EVENTS[3]["data"]["note"]


@pytest.mark.parametrize(("status", "body", "outcome", "splittable", "words"), [
    (403, b'{"text":"Invalid token","code":4}', Outcome.RETRY, False, "Invalid token"),
    (403, b'{"text":"Token disabled","code":1}', Outcome.RETRY, False, "Token disabled"),
    (400, b'{"text":"Incorrect index","code":7,"invalid-event-number":0}', Outcome.RETRY, False, "index ('security')"),
    (400, b'{"text":"Invalid data format","code":6,"invalid-event-number":2}', Outcome.DEAD, True, "Invalid data format"),
    (503, b'{"text":"Server is busy","code":9}', Outcome.RETRY, False, "Server is busy"),
    (413, b"", Outcome.DEAD, True, "too large"),
    (None, b"", Outcome.RETRY, False, "Could not reach"),
])
def test_response_classification(status, body, outcome, splittable, words):
    c = conn()
    [req] = c.build_requests(EVENTS[:1])
    result = c.parse_response(req, TransportResponse(status_code=status, body=body, error="connection refused"))
    assert result.outcome is outcome and result.splittable is splittable
    assert words in result.detail and TOKEN not in result.detail


def test_retry_after_is_read():
    c = conn()
    [req] = c.build_requests(EVENTS[:1])
    result = c.parse_response(req, TransportResponse(429, b"", {"retry-after": "7"}))
    assert result.outcome is Outcome.RETRY and result.retry_after_s == 7


def test_split_by_bytes_never_truncates():
    big = [dict(EVENTS[2], id=f"00000000-0000-4000-8000-{i:012d}", data={"blob": "z" * 400_000}) for i in range(3)]
    reqs = conn().build_requests(big)
    assert [len(r.event_ids) for r in reqs] == [2, 1]
    assert all(len(r.body) <= 1_000_000 for r in reqs)
    assert [e["event"]["data"]["blob"] for r in reqs for e in parse_concatenated(r.body)] == ["z" * 400_000] * 3


def test_indexer_acknowledgement_is_polled_until_indexed():
    state = {"polls": 0}

    def responder(req):
        if req.path == "/services/collector/ack":
            assert req.headers["x-splunk-request-channel"]
            state["polls"] += 1
            return Reply(200, json.dumps({"acks": {"7": state["polls"] >= 2}}).encode())
        if not req.headers.get("x-splunk-request-channel"):
            return Reply(400, b'{"text":"Data channel is missing","code":10}')
        return Reply(200, b'{"text":"Success","code":0,"ackId":7}')

    with HecReceiver(token=TOKEN, responder=responder) as hec:
        c = conn(endpoint=hec.url, use_ack=True)
        transport = HttpTransport(timeout=5)
        [req] = c.build_requests(EVENTS[:1])
        resp = transport.send(req)
        result = c.confirm(req, resp, c.parse_response(req, resp), transport.send)
        assert result.outcome is Outcome.OK and state["polls"] == 2
        no_ack = conn(endpoint=hec.url)
        [req] = no_ack.build_requests(EVENTS[:1])
        result = no_ack.parse_response(req, transport.send(req))
        assert result.outcome is Outcome.RETRY and "enable 'use_ack'" in result.detail
