"""Sentinel legacy (HTTP Data Collector API): SharedKey signature, golden body, round trips."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from delivery.connectors import get_connector
from delivery.connectors.base import Outcome
from delivery.connectors.sentinel_legacy import SentinelLegacyConnector, SentinelLegacyForm, shared_key_signature
from tests.delivery.connectors.siem_support import (
    EVENTS,
    assert_golden,
    assert_split_invariants,
    fake_ocsf,  # noqa: F401  (fixture)
    make_event,
    response,
    send_all,
)
from tests.receivers.sentinel import SentinelLegacyReceiver

WORKSPACE = "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e"
KEY = base64.b64encode(b"legacy-workspace-shared-key-0123456789abcdef").decode()
FIXED_CLOCK = 1717171717.0  # Fri, 31 May 2024 16:08:37 GMT

pytestmark = pytest.mark.usefixtures("fake_ocsf")


def connector(endpoint: str = "", key: str = KEY, clock: float | None = FIXED_CLOCK, **config: object) -> SentinelLegacyConnector:
    conn = SentinelLegacyConnector(config={"workspace_id": WORKSPACE, "endpoint": endpoint, **config}, secrets={"shared_key": key})
    if clock is not None:
        conn.clock = lambda: clock  # type: ignore[method-assign]
    return conn


def independent_signature(key: str, length: int, date: str) -> str:
    """The doc's recipe written out again, separately from the connector."""
    message = "POST\n" + str(length) + "\napplication/json\nx-ms-date:" + date + "\n/api/logs"
    return base64.b64encode(hmac.new(base64.b64decode(key), message.encode(), hashlib.sha256).digest()).decode()


def test_registered_and_deprecated() -> None:
    assert get_connector("sentinel_legacy") is SentinelLegacyConnector
    assert SentinelLegacyConnector.deprecated == (
        "Microsoft retired the HTTP Data Collector API on 2026-09-14; use the sentinel (Logs Ingestion API) type."
    )
    assert SentinelLegacyConnector.secret_fields == ("shared_key",)


def test_signature_matches_the_documented_recipe() -> None:
    date = "Mon, 04 Apr 2016 08:00:00 GMT"  # the doc's example string-to-sign uses length 1024
    assert shared_key_signature(KEY, 1024, date) == independent_signature(KEY, 1024, date)
    # Pinned value, so a change in the recipe cannot slip by unnoticed.
    assert shared_key_signature(KEY, 1024, date) == "JORqPemQY8x3yeJAFRcWvF8NKfAQN8sNlalrV5C4gQU="


def test_golden_body_and_headers() -> None:
    [req] = connector().build_requests(EVENTS)
    assert_golden("sentinel_legacy.json", req.body)
    assert req.url == f"https://{WORKSPACE}.ods.opinsights.azure.com/api/logs?api-version=2016-04-01"
    date = "Fri, 31 May 2024 16:08:37 GMT"
    assert req.headers == {
        "Content-Type": "application/json",
        "Log-Type": "SiemhubEvents",
        "x-ms-date": date,
        "time-generated-field": "EventTime",
        "Authorization": f"SharedKey {WORKSPACE}:{independent_signature(KEY, len(req.body), date)}",
    }
    # Content-Length is the byte length: the events hold non-ASCII text, so chars != bytes.
    assert len(req.body) != len(req.body.decode("utf-8"))
    records = json.loads(req.body)
    assert records[0]["EventTime"] == "2024-05-31T16:08:37.123Z"
    assert not set(records[0]) & {"TimeGenerated", "tenant", "RawData"}
    assert all(isinstance(v, str) for r in records for v in r.values())  # flat records


def test_endpoint_override_and_form() -> None:
    [req] = connector("http://127.0.0.1:9999").build_requests(EVENTS[:1])
    assert req.url == "http://127.0.0.1:9999/api/logs?api-version=2016-04-01"
    ok = {"workspace_id": WORKSPACE, "shared_key": KEY}
    form = SentinelLegacyForm(data=ok)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["log_type"] == "SiemhubEvents"
    assert not SentinelLegacyForm(data={**ok, "log_type": "bad-name"}).is_valid()
    assert not SentinelLegacyForm(data={**ok, "shared_key": "not base64!"}).is_valid()
    assert not SentinelLegacyForm(data={**ok, "workspace_id": "myworkspace"}).is_valid()


def test_split_by_count_and_bytes() -> None:
    events = [make_event(i) for i in range(2001)]
    requests = connector().build_requests(events)
    assert [len(r.event_ids) for r in requests] == [1000, 1000, 1]
    assert_split_invariants(requests, events)
    events = [make_event(i, payload_size=1_000_000) for i in range(5)] + [make_event(9, payload_size=6_000_000)]
    requests = connector().build_requests(events)
    assert_split_invariants(requests, events)
    assert all(len(r.body) <= 5_000_000 for r in requests[:-1])
    assert requests[-1].event_ids == (events[-1]["id"],) and len(requests[-1].body) > 12_000_000
    for req in requests:  # each request signed for its own length
        sig = req.headers["Authorization"].split(":")[1]
        assert sig == independent_signature(KEY, len(req.body), req.headers["x-ms-date"])


def test_parse_responses() -> None:
    conn = connector()
    [req] = conn.build_requests(EVENTS[:2])
    assert conn.parse_response(req, response(200)).outcome is Outcome.OK
    r = conn.parse_response(req, response(403, json.dumps({"Error": "InvalidAuthorization", "Message": "An invalid scheme was specified"})))
    assert r.outcome is Outcome.RETRY and "SharedKey signature" in r.detail
    r = conn.parse_response(req, response(400, json.dumps({"Error": "InvalidDataFormat", "Message": "An invalid JSON was submitted"})))
    assert r.outcome is Outcome.DEAD and r.splittable
    r = conn.parse_response(req, response(400, json.dumps({"Error": "InactiveCustomer", "Message": "The workspace has been closed"})))
    assert r.outcome is Outcome.RETRY and not r.splittable and "deleted or inactive" in r.detail
    r = conn.parse_response(req, response(429, b"", {"Retry-After": "30"}))
    assert r.outcome is Outcome.RETRY and r.retry_after_s == 30
    assert conn.parse_response(req, response(503, json.dumps({"Error": "ServiceUnavailable", "Message": "x"}))).outcome is Outcome.RETRY


def test_no_secret_in_details() -> None:
    conn = connector()
    [req] = conn.build_requests(EVENTS[:1])
    echo = f"key={KEY} auth={req.headers['Authorization']}"
    texts = [conn.parse_response(req, response(c, json.dumps({"Error": "InvalidAuthorization", "Message": echo}))).detail for c in (400, 403, 500)]
    texts.append(conn.describe_error(response(403, echo)))
    for text in texts:
        assert KEY not in text, text


# -- real HTTP round trips (real clock: the receiver checks the date) ----------------------


def test_round_trip_accepted() -> None:
    with SentinelLegacyReceiver(workspace_id=WORKSPACE, shared_key=KEY) as az:
        [(_, resp, result)] = send_all(connector(az.url, clock=None), EVENTS)
        assert resp.status_code == 200 and result.outcome is Outcome.OK, result.detail
        assert [r["EventId"] for _, r in az.records] == [e["id"] for e in EVENTS]
        assert {lt for lt, _ in az.records} == {"SiemhubEvents"}
        assert json.loads(az.records[1][1]["Data"])["note"] == "line1\nline2\r\nline3\ttab"


def test_round_trip_wrong_key_and_stale_clock() -> None:
    other = base64.b64encode(b"some-other-key-entirely").decode()
    with SentinelLegacyReceiver(workspace_id=WORKSPACE, shared_key=KEY) as az:
        [(_, resp, result)] = send_all(connector(az.url, key=other, clock=None), EVENTS[:1])
        assert resp.status_code == 403 and result.outcome is Outcome.RETRY
        assert "InvalidAuthorization: Azure refused the SharedKey signature" in result.detail
        [(_, resp, _)] = send_all(connector(az.url, clock=time.time() - 3600), EVENTS[:1])
        assert resp.status_code == 403
        assert az.records == []
