"""Datadog Logs API v2: golden items, gzip, 1000 / 5 MB split, error decoding, round trips."""

from __future__ import annotations

import gzip
import json

import pytest

from delivery.connectors import get_connector
from delivery.connectors.base import Outcome
from delivery.connectors.datadog import DatadogConnector, DatadogForm
from delivery.formats.jsonenc import dumps_str
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
from tests.receivers.datadog import DatadogReceiver, dd_error

API_KEY = "0123456789abcdef0123456789abcdef"

pytestmark = pytest.mark.usefixtures("fake_ocsf")


def connector(endpoint: str = "", key: str = API_KEY, **config: object) -> DatadogConnector:
    return DatadogConnector(config={"endpoint": endpoint, **config}, secrets={"api_key": key})


def test_registered() -> None:
    assert get_connector("datadog") is DatadogConnector
    assert DatadogConnector.secret_fields == ("api_key",)


def test_golden_items() -> None:
    conn = connector(site="datadoghq.eu", service="secops", source="siemhub", tags="env:prod, team:sec", hostname="gw-1")
    [req] = conn.build_requests(EVENTS)
    assert req.body[:2] == b"\x1f\x8b" and req.body[4:8] == b"\x00\x00\x00\x00"
    plain = gzip.decompress(req.body)
    assert_golden("datadog.json", plain)
    items = json.loads(plain)
    assert items[0]["message"] == dumps_str(fake_to_ocsf(EVENTS[0]))
    assert items[0]["ddtags"] == "env:prod,team:sec,event_type:finding.new,severity:high"
    assert [i["status"] for i in items] == ["error", "info", "notice", "warn", "critical"]
    assert items[0]["timestamp"] == 1717171717123
    assert req.url == "https://http-intake.logs.datadoghq.eu/api/v2/logs"
    assert req.headers == {"DD-API-KEY": API_KEY, "Content-Type": "application/json", "Content-Encoding": "gzip"}


def test_urls_and_form() -> None:
    assert connector().build_requests(EVENTS[:1])[0].url == "https://http-intake.logs.datadoghq.com/api/v2/logs"
    assert connector("http://127.0.0.1:1234").build_requests(EVENTS[:1])[0].url == "http://127.0.0.1:1234/api/v2/logs"
    form = DatadogForm(data={"api_key": API_KEY, "tags": " env:prod , ,team:sec "})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["site"] == "datadoghq.com" and form.cleaned_data["tags"] == "env:prod,team:sec"
    assert not DatadogForm(data={"api_key": API_KEY, "site": "datadog.com"}).is_valid()
    assert not DatadogForm(data={"api_key": "abc\r\nX-Evil: 1"}).is_valid()


def test_split_by_count_and_uncompressed_bytes() -> None:
    events = [make_event(i) for i in range(2345)]
    requests = connector().build_requests(events)
    assert [len(r.event_ids) for r in requests] == [1000, 1000, 345]
    assert_split_invariants(requests, events)
    # The data rides in message (OCSF): ~1 MB per item, so 4 fit under 5 MB, never a 5th.
    events = [make_event(i, payload_size=1_000_000) for i in range(5)] + [make_event(7, payload_size=6_000_000)]
    requests = connector().build_requests(events)
    assert_split_invariants(requests, events)
    assert all(len(gzip.decompress(r.body)) <= 5_000_000 for r in requests[:-1])
    assert [len(r.event_ids) for r in requests[:-1]] == [4, 1]
    assert requests[-1].event_ids == (events[-1]["id"],)
    assert "x" * 6_000_000 in json.loads(gzip.decompress(requests[-1].body))[0]["message"]


def test_parse_responses() -> None:
    conn = connector()
    [req] = conn.build_requests(EVENTS[:2])
    assert conn.parse_response(req, response(202, b"{}")).outcome is Outcome.OK
    reply = dd_error(403, "Forbidden", "API key is invalid")
    r = conn.parse_response(req, response(reply.status, reply.body))
    assert r.outcome is Outcome.RETRY
    assert r.detail.startswith("HTTP 403: invalid API key") and "(API key is invalid)" in r.detail
    r = conn.parse_response(req, response(403, json.dumps({"errors": ["Forbidden"]})))  # the older body
    assert "invalid API key" in r.detail and "(Forbidden)" in r.detail
    r = conn.parse_response(req, response(429, b"", {"Retry-After": "3"}))
    assert r.outcome is Outcome.RETRY and r.retry_after_s == 3
    r = conn.parse_response(req, response(408, b""))
    assert r.outcome is Outcome.RETRY
    for code in (400, 413):
        r = conn.parse_response(req, response(code, json.dumps({"errors": ["Payload too large"]})))
        assert r.outcome is Outcome.DEAD and r.splittable
    assert conn.parse_response(req, response(500, b"")).outcome is Outcome.RETRY
    assert "no Datadog API key" in conn.parse_response(req, response(401, b"")).detail


def test_no_secret_in_details() -> None:
    conn = connector()
    [req] = conn.build_requests(EVENTS[:1])
    echo = json.dumps({"errors": [f"key {API_KEY} is invalid", f"DD-API-KEY: {API_KEY}"]})
    texts = [conn.parse_response(req, response(code, echo)).detail for code in (400, 401, 403, 413, 429, 500)]
    texts.append(conn.describe_error(response(403, f"DD-API-KEY={API_KEY}")))
    for text in texts:
        assert API_KEY not in text, text


def test_round_trip_accepted() -> None:
    with DatadogReceiver(api_key=API_KEY) as dd:
        [(_, resp, result)] = send_all(connector(dd.url, tags="env:test"), EVENTS)
        assert resp.status_code == 202 and result.outcome is Outcome.OK, result.detail
        assert [log["event_id"] for log in dd.logs] == [e["id"] for e in EVENTS]
        assert json.loads(dd.logs[1]["message"])["unmapped"]["note"] == "line1\nline2\r\nline3\ttab"


def test_round_trip_invalid_key_decoded() -> None:
    with DatadogReceiver(api_key=API_KEY) as dd:
        [(_, resp, result)] = send_all(connector(dd.url, key="ffffffffffffffffffffffffffffffff"), EVENTS[:1])
        assert resp.status_code == 403 and result.outcome is Outcome.RETRY
        assert "invalid API key" in result.detail and "API key is missing or invalid" in result.detail
        assert dd.logs == []


def test_round_trip_oversized_alone_413() -> None:
    with DatadogReceiver(api_key=API_KEY) as dd:
        events = [make_event(1), make_event(2, payload_size=5_100_000)]
        results = send_all(connector(dd.url), events)
        assert [r.outcome for _, _, r in results] == [Outcome.OK, Outcome.DEAD]
        assert results[1][1].status_code == 413 and results[1][2].splittable


@pytest.mark.skipif(not real_ocsf_available(), reason="delivery/formats/ocsf.py not written yet")
def test_message_is_the_real_ocsf_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.delitem(sys.modules, "delivery.formats.ocsf")
    from delivery.formats.ocsf import to_ocsf

    [req] = connector().build_requests(EVENTS[:1])
    item = json.loads(gzip.decompress(req.body))[0]
    assert item["message"] == dumps_str(to_ocsf(EVENTS[0]))
