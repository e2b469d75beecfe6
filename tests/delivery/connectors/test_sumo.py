"""Sumo Logic HTTP source: the URL is a secret, NDJSON lines, X-Sumo-* headers, gzip, 1 MB split."""

from __future__ import annotations

import gzip
import json

import pytest

from delivery.connectors import get_connector
from delivery.connectors.base import Outcome
from delivery.connectors.sumo import SumoConnector, SumoForm, parse_fields
from tests.delivery.connectors.siem_support import (
    EVENTS,
    assert_golden,
    assert_split_invariants,
    make_event,
    response,
    send_all,
)
from tests.receivers.sumo import SumoReceiver

CODE = "ZaVnC4dhaV2c9dZ3vbGmnt4pJEd8BmTmB5oJwMJwe2R0QzYTqqrQx2Xfe4pVDqsy=="
URL = f"https://collectors.de.sumologic.com/receiver/v1/http/{CODE}"


def connector(url: str = URL, **config: object) -> SumoConnector:
    return SumoConnector(config=dict(config), secrets={"url": url})


def test_registered_and_url_is_secret() -> None:
    assert get_connector("sumo") is SumoConnector
    assert SumoConnector.secret_fields == ("url",)
    conn = connector()
    options = conn.transport_options()  # the transport (and any cache keyed on it) never needs the URL
    assert CODE not in repr(options) and CODE not in repr(conn)


def test_golden_lines_and_headers() -> None:
    conn = connector(category="security/siemhub", host="siemhub-1", name="events", fields="env=prod, team=sec")
    [req] = conn.build_requests(EVENTS)
    plain = gzip.decompress(req.body)
    assert_golden("sumo.ndjson", plain)
    lines = plain.split(b"\n")
    assert len(lines) == len(EVENTS)  # one line per event: newlines inside values stay escaped
    assert len(plain.decode().splitlines()) == len(EVENTS)  # even for splitters that break on U+2028
    assert b"\\u2028" in lines[2] and json.loads(lines[2])["data"]["target"] == EVENTS[2]["data"]["target"]
    assert [json.loads(line)["id"] for line in lines] == [e["id"] for e in EVENTS]
    assert req.url == URL
    assert req.headers == {
        "Content-Type": "text/plain",
        "Content-Encoding": "gzip",
        "X-Sumo-Client": "siemhub",
        "X-Sumo-Category": "security/siemhub",
        "X-Sumo-Host": "siemhub-1",
        "X-Sumo-Name": "events",
        "X-Sumo-Fields": "env=prod,team=sec",
    }


def test_fields_forms_and_validation() -> None:
    assert parse_fields({"env": "prod", "team": "sec"}) == {"env": "prod", "team": "sec"}
    assert parse_fields("env=prod,,team=a=b") == {"env": "prod", "team": "a=b"}
    assert connector(fields={"a": "1", "b": "2"}).build_requests(EVENTS[:1])[0].headers["X-Sumo-Fields"] == "a=1,b=2"
    for bad in ("novalue", "a b=1\r\nX-Evil: 1", {"k,x": "1"}, {"k=x": "1"}, {"k": "a,b"}, {"k": "a\nb"}, {"k": "x" * 201}, {f"k{i}": "v" for i in range(31)}):
        with pytest.raises(ValueError):
            parse_fields(bad)
    form = SumoForm(data={"url": URL, "fields": "env = prod , team=sec"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["fields"] == "env=prod,team=sec"
    bad_form = SumoForm(data={"url": URL, "fields": "a,b=1", "category": "x\r\ny"})
    assert not bad_form.is_valid()
    assert set(bad_form.errors) == {"fields", "category"}
    assert CODE not in json.dumps(bad_form.errors)
    assert CODE not in json.dumps(SumoForm(data={"url": URL + " x"}).errors)  # bad URL: not echoed


def test_native_and_ocsf_schema() -> None:
    [req] = connector().build_requests(EVENTS[:1])
    assert json.loads(gzip.decompress(req.body))["event"] == "finding.new"  # native is the default


def test_split_by_count_and_bytes() -> None:
    events = [make_event(i) for i in range(1500)]
    requests = connector().build_requests(events)
    assert [len(r.event_ids) for r in requests] == [1000, 500]
    assert_split_invariants(requests, events)
    events = [make_event(i, payload_size=300_000) for i in range(7)] + [make_event(70, payload_size=1_500_000)]
    requests = connector().build_requests(events)
    assert_split_invariants(requests, events)
    assert [len(r.event_ids) for r in requests] == [3, 3, 1, 1]
    assert all(len(gzip.decompress(r.body)) <= 1_000_000 for r in requests[:-1])
    assert len(json.loads(gzip.decompress(requests[-1].body))["data"]["pad"]) == 1_500_000


def test_parse_responses() -> None:
    conn = connector()
    [req] = conn.build_requests(EVENTS[:2])
    assert conn.parse_response(req, response(200)).outcome is Outcome.OK
    warn = json.dumps({"status": 200, "id": "X", "code": "bad.http.header.fields", "message": "X-Sumo-Fields Warning: 1 key-value pairs are dropped"})
    r = conn.parse_response(req, response(200, warn))
    assert r.outcome is Outcome.OK and "bad.http.header.fields" in r.detail
    r = conn.parse_response(req, response(401, b""))
    assert r.outcome is Outcome.RETRY and "refused the HTTP Source URL" in r.detail
    r = conn.parse_response(req, response(429, "STATUS 429 You have temporarily exceeded your Sumo Logic quota", {"Retry-After": "60"}))
    assert r.outcome is Outcome.RETRY and r.retry_after_s == 60 and "throttling" in r.detail
    for code in (408, 503, 504):
        assert conn.parse_response(req, response(code, b"")).outcome is Outcome.RETRY
    r = conn.parse_response(req, response(400, b"Unable to parse"))
    assert r.outcome is Outcome.DEAD and r.splittable


def test_url_never_in_details() -> None:
    conn = connector()
    [req] = conn.build_requests(EVENTS[:1])
    echoes = [
        f"no source at {URL}",
        f"POST /receiver/v1/http/{CODE} rejected",
        f"token {CODE}",
        "token " + CODE.replace("=", "%3D"),
    ]
    texts = []
    for echo in echoes:
        for code in (None, 200, 400, 401, 404, 500):
            resp = response(code, json.dumps({"code": "x", "message": echo}) if code == 200 else echo, error=echo if code is None else "")
            texts.append(conn.parse_response(req, resp).detail)
            texts.append(conn.describe_error(resp))
    for text in texts:
        assert CODE not in text and CODE.rstrip("=") not in text and "%3D%3D" not in text, text


def test_round_trip_accepted() -> None:
    with SumoReceiver(code=CODE) as sumo:
        conn = connector(sumo.source_url, category="sec", fields={"env": "test"})
        [(_, resp, result)] = send_all(conn, EVENTS)
        assert resp.status_code == 200 and result.outcome is Outcome.OK and result.detail == ""
        assert len(sumo.messages) == len(EVENTS)
        assert json.loads(sumo.messages[1]["line"])["data"]["note"] == "line1\nline2\r\nline3\ttab"
        assert sumo.messages[0]["category"] == "sec" and sumo.messages[0]["fields"] == {"env": "test"}


def test_round_trip_wrong_url_is_decoded_without_the_url() -> None:
    with SumoReceiver(code=CODE) as sumo:
        wrong = f"{sumo.url}/receiver/v1/http/OldRegeneratedCodeXYZ0123456789"
        [(_, resp, result)] = send_all(connector(wrong), EVENTS[:1])
        assert resp.status_code == 401 and result.outcome is Outcome.RETRY
        assert "refused the HTTP Source URL" in result.detail
        assert "OldRegeneratedCode" not in result.detail
        assert sumo.messages == []


def test_connection_error_does_not_leak_the_url() -> None:
    # A closed port on 127.0.0.1: the transport's error names the host only; we scrub anyway.
    with SumoReceiver(code=CODE) as sumo:
        dead_url = f"{sumo.url}/receiver/v1/http/{CODE}"
    [(_, resp, result)] = send_all(connector(dead_url), EVENTS[:1])
    assert resp.status_code is None and result.outcome is Outcome.RETRY
    assert CODE not in result.detail and "127.0.0.1" in result.detail
