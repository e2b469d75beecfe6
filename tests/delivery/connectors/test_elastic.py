"""Elasticsearch Bulk API connector: golden bytes, strict-receiver round trips, per-item parsing."""

from __future__ import annotations

import base64
import json

import pytest

from delivery.connectors import get_connector
from delivery.connectors.base import Outcome
from delivery.connectors.elastic import ElasticConnector, ElasticForm, api_key_header
from tests.delivery.connectors.siem_support import (
    EVENTS,
    assert_golden,
    assert_split_invariants,
    make_event,
    response,
    send_all,
)
from tests.receivers.elastic import ElasticReceiver, es_error

KEY_ID, KEY = "VuaCfGcBCdbkQm-e5aOx", "ui2lp2axTNmsyakw9tvNnw-SECRET"
PASSWORD = "hunter2-Elastic-Pa55"


def connector(url: str = "https://es.example.com:9200", **config: object) -> ElasticConnector:
    secrets = {"api_key": f"{KEY_ID}:{KEY}"} if "username" not in config else {"password": PASSWORD}
    return ElasticConnector(config={"url": url, **config}, secrets=secrets)


def test_registered() -> None:
    assert get_connector("elastic") is ElasticConnector
    assert ElasticConnector.secret_fields == ("api_key", "password")


def test_golden_bulk_body() -> None:
    [req] = connector(pipeline="siem-enrich").build_requests(EVENTS)
    assert_golden("elastic_bulk.ndjson", req.body)
    assert req.body.endswith(b"\n")
    lines = req.body.split(b"\n")[:-1]
    assert len(lines) == 2 * len(EVENTS)
    for event, action, source in zip(EVENTS, lines[::2], lines[1::2]):
        assert json.loads(action) == {"create": {"_index": "siemhub-events", "_id": event["id"]}}
        assert json.loads(source)["id"] == event["id"]
    assert req.url == "https://es.example.com:9200/_bulk?pipeline=siem-enrich"
    assert req.headers["Content-Type"] == "application/x-ndjson"
    assert req.event_ids == tuple(e["id"] for e in EVENTS)


def test_api_key_forms() -> None:
    encoded = base64.b64encode(f"{KEY_ID}:{KEY}".encode()).decode()
    assert api_key_header(f"{KEY_ID}:{KEY}") == f"ApiKey {encoded}"
    assert api_key_header(encoded) == f"ApiKey {encoded}"  # Kibana's encoded value, sent as is
    [req] = connector().build_requests(EVENTS[:1])
    assert req.headers["Authorization"] == f"ApiKey {encoded}"


def test_basic_auth_header() -> None:
    [req] = connector(username="siem").build_requests(EVENTS[:1])
    assert req.headers["Authorization"] == "Basic " + base64.b64encode(f"siem:{PASSWORD}".encode()).decode()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://es:9200", "https://es:9200/_bulk"),
        ("https://es:9200/", "https://es:9200/_bulk"),
        ("https://es:9200/_bulk", "https://es:9200/_bulk"),
        ("https://proxy/es", "https://proxy/es/_bulk"),
    ],
)
def test_url_gets_bulk_path(url: str, expected: str) -> None:
    assert connector(url).build_requests(EVENTS[:1])[0].url == expected


def test_data_stream_default_target() -> None:
    [req] = connector(data_stream=True).build_requests(EVENTS[:1])
    assert json.loads(req.body.split(b"\n")[0]) == {"create": {"_index": "logs-siemhub-default", "_id": EVENTS[0]["id"]}}


def test_form_defaults_and_validation() -> None:
    form = ElasticForm(data={"url": "https://es:9200", "api_key": "abc:def"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["index"] == "siemhub-events"
    form = ElasticForm(data={"url": "https://es:9200", "api_key": "abc:def", "data_stream": True})
    assert form.is_valid() and form.cleaned_data["index"] == "logs-siemhub-default"
    assert not ElasticForm(data={"url": "https://es:9200"}).is_valid()  # no credential
    assert not ElasticForm(data={"url": "https://es:9200", "api_key": "k", "index": "Bad Index"}).is_valid()
    assert not ElasticForm(data={"url": "https://es:9200", "username": "u"}).is_valid()  # no password


# -- splitting ------------------------------------------------------------------------------


def test_split_by_count() -> None:
    events = [make_event(i) for i in range(1201)]
    requests = connector().build_requests(events)
    assert [len(r.event_ids) for r in requests] == [500, 500, 201]
    assert_split_invariants(requests, events)
    assert all(r.body.endswith(b"\n") for r in requests)


def test_split_by_bytes_never_truncates() -> None:
    events = [make_event(i, payload_size=1_200_000) for i in range(6)] + [make_event(99, payload_size=6_000_000)]
    requests = connector().build_requests(events)
    assert_split_invariants(requests, events)
    assert all(len(r.body) <= 5_000_000 for r in requests[:-1])
    assert requests[-1].event_ids == (events[-1]["id"],)  # oversized alone, whole
    assert b"x" * 6_000_000 in requests[-1].body
    for req in requests:
        lines = req.body.split(b"\n")[:-1]
        assert all(json.loads(line) for line in lines)


# -- response parsing -----------------------------------------------------------------------


def bulk_answer(items: list[tuple[str, int, dict | None]]) -> bytes:
    out = []
    for doc_id, status, error in items:
        item = {"_index": "siemhub-events", "_id": doc_id, "status": status}
        if error:
            item["error"] = error
        out.append({"create": item})
    return json.dumps({"took": 1, "errors": any(s >= 300 for _, s, _ in items), "items": out}).encode()


def test_parse_all_ok_and_409_is_ok() -> None:
    conn = connector()
    [req] = conn.build_requests(EVENTS[:2])
    conflict = {"type": "version_conflict_engine_exception", "reason": "document already exists"}
    body = bulk_answer([(EVENTS[0]["id"], 201, None), (EVENTS[1]["id"], 409, conflict)])
    result = conn.parse_response(req, response(200, body, {"X-Elastic-Product": "Elasticsearch"}))
    assert result.outcome is Outcome.OK
    assert set(result.per_event.values()) == {Outcome.OK}
    assert result.detail == ""


def test_parse_partial_items() -> None:
    conn = connector()
    [req] = conn.build_requests(EVENTS[:4])
    mapping = {
        "type": "document_parsing_exception",
        "reason": "[1:42] failed to parse field [data.score] of type [long]",
        "caused_by": {"type": "illegal_argument_exception", "reason": "For input string: \"high\""},
    }
    body = bulk_answer(
        [
            (EVENTS[0]["id"], 201, None),
            (EVENTS[1]["id"], 429, {"type": "es_rejected_execution_exception", "reason": "rejected execution"}),
            (EVENTS[2]["id"], 400, mapping),
            (EVENTS[3]["id"], 503, {"type": "unavailable_shards_exception", "reason": "primary shard is not active"}),
        ]
    )
    result = conn.parse_response(req, response(200, body))
    assert result.per_event == {
        EVENTS[0]["id"]: Outcome.OK,
        EVENTS[1]["id"]: Outcome.RETRY,
        EVENTS[2]["id"]: Outcome.DEAD,
        EVENTS[3]["id"]: Outcome.RETRY,
    }
    assert result.outcome is Outcome.RETRY
    assert "failed to parse field [data.score]" in result.per_event_detail[EVENTS[2]["id"]]
    assert "caused by illegal_argument_exception" in result.per_event_detail[EVENTS[2]["id"]]
    assert "indexed 1 of 4 events (2 to retry, 1 rejected)" in result.detail
    assert len(result.detail) <= 256


def test_parse_only_dead_items() -> None:
    conn = connector()
    [req] = conn.build_requests(EVENTS[:1])
    body = bulk_answer([(EVENTS[0]["id"], 404, {"type": "index_not_found_exception", "reason": "no such index [x]"})])
    result = conn.parse_response(req, response(200, body))
    assert result.outcome is Outcome.DEAD and result.per_event[EVENTS[0]["id"]] is Outcome.DEAD


def test_2xx_without_bulk_answer_is_not_delivered() -> None:
    conn = connector()
    [req] = conn.build_requests(EVENTS[:2])
    result = conn.parse_response(req, response(200, b"<html>OK</html>"))
    assert result.outcome is Outcome.RETRY
    assert "X-Elastic-Product" in result.detail
    short = json.dumps({"errors": False, "items": [{"create": {"status": 201}}]}).encode()
    result = conn.parse_response(req, response(200, short, {"X-Elastic-Product": "Elasticsearch"}))
    assert result.outcome is Outcome.RETRY and "mismatch" in result.detail
    swapped = bulk_answer([(EVENTS[1]["id"], 201, None), (EVENTS[0]["id"], 201, None)])
    result = conn.parse_response(req, response(200, swapped, {"X-Elastic-Product": "Elasticsearch"}))
    assert result.outcome is Outcome.RETRY and not result.per_event


def test_parse_whole_request_errors() -> None:
    conn = connector()
    [req] = conn.build_requests(EVENTS[:2])
    r = conn.parse_response(req, response(401, es_error(401, "security_exception", "unable to authenticate with provided credentials")))
    assert r.outcome is Outcome.RETRY
    assert r.detail == (
        "HTTP 401: Elasticsearch refused the credentials "
        "(security_exception: unable to authenticate with provided credentials)"
    )
    r = conn.parse_response(req, response(413, b""))
    assert r.outcome is Outcome.DEAD and r.splittable
    r = conn.parse_response(req, response(429, b"", {"Retry-After": "7"}))
    assert r.outcome is Outcome.RETRY and r.retry_after_s == 7
    r = conn.parse_response(req, response(None, error="Connection refused by es:9200"))
    assert r.outcome is Outcome.RETRY and "Connection refused" in r.detail
    r = conn.parse_response(req, response(400, es_error(400, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]")))
    assert r.outcome is Outcome.DEAD and r.splittable and "terminated by a newline" in r.detail


def test_no_secret_in_details() -> None:
    """A hostile or verbose server echoing the credential must not leak it into last_error."""
    encoded = base64.b64encode(f"{KEY_ID}:{KEY}".encode()).decode()
    for conn, secrets in ((connector(), [KEY, encoded]), (connector(username="siem"), [PASSWORD])):
        [req] = conn.build_requests(EVENTS[:1])
        echo = f"bad header Authorization: {req.headers['Authorization']} key={KEY} pw={PASSWORD} enc={encoded}"
        texts = [
            conn.describe_error(response(401, es_error(401, "security_exception", echo))),
            conn.parse_response(req, response(403, es_error(403, "security_exception", echo))).detail,
            conn.parse_response(req, response(500, echo)).detail,
            conn.parse_response(req, response(200, bulk_answer([(EVENTS[0]["id"], 400, {"type": "x", "reason": echo})]))).detail,
        ]
        result = conn.parse_response(req, response(200, bulk_answer([(EVENTS[0]["id"], 400, {"type": "x", "reason": echo})])))
        texts += list(result.per_event_detail.values())
        for text in texts:
            for secret in secrets:
                assert secret not in text, text


# -- real HTTP round trips against the strict receiver -------------------------------------


def test_round_trip_accepted_and_idempotent() -> None:
    with ElasticReceiver(api_key=(KEY_ID, KEY), pipelines=("siem-enrich",)) as es:
        conn = connector(es.url, pipeline="siem-enrich")
        [(req, resp, result)] = send_all(conn, EVENTS)
        assert resp.status_code == 200 and resp.headers["x-elastic-product"] == "Elasticsearch"
        assert result.outcome is Outcome.OK, result.detail
        assert len(es.docs) == len(EVENTS)
        assert es.docs[("siemhub-events", EVENTS[1]["id"])]["data"]["note"] == "line1\nline2\r\nline3\ttab"
        # A retry of the same batch: every item 409, all counted delivered, nothing duplicated.
        [(_, _, again)] = send_all(conn, EVENTS)
        assert again.outcome is Outcome.OK and len(es.docs) == len(EVENTS)


def test_round_trip_basic_auth_and_data_stream() -> None:
    with ElasticReceiver(basic=("siem", PASSWORD), data_streams=("logs-siemhub-default",)) as es:
        [(_, _, result)] = send_all(connector(es.url, username="siem", data_stream=True), EVENTS)
        assert result.outcome is Outcome.OK, result.detail
        assert all(idx == "logs-siemhub-default" for idx, _ in es.docs)


def test_round_trip_bad_key_decoded() -> None:
    with ElasticReceiver(api_key=(KEY_ID, "the-real-key")) as es:
        [(_, resp, result)] = send_all(connector(es.url), EVENTS[:1])
        assert resp.status_code == 401
        assert result.outcome is Outcome.RETRY
        assert "security_exception: unable to authenticate with provided credentials" in result.detail
        assert KEY not in result.detail


def test_round_trip_partial_and_missing_pipeline() -> None:
    bad = {EVENTS[2]["id"]: (400, "document_parsing_exception", "failed to parse field [data.target]")}
    with ElasticReceiver(api_key=(KEY_ID, KEY), item_status=bad) as es:
        [(_, _, result)] = send_all(connector(es.url), EVENTS)
        assert result.outcome is Outcome.DEAD
        assert result.per_event[EVENTS[2]["id"]] is Outcome.DEAD
        assert sum(o is Outcome.OK for o in result.per_event.values()) == len(EVENTS) - 1
    with ElasticReceiver(api_key=(KEY_ID, KEY)) as es:
        [(_, _, result)] = send_all(connector(es.url, pipeline="nope"), EVENTS[:1])
        assert result.outcome is Outcome.DEAD
        assert "pipeline with id [nope] does not exist" in result.per_event_detail[EVENTS[0]["id"]]


def test_round_trip_413_is_splittable() -> None:
    with ElasticReceiver(api_key=(KEY_ID, KEY), max_content_length=1000) as es:
        [(_, resp, result)] = send_all(connector(es.url), EVENTS)
        assert resp.status_code == 413 and result.outcome is Outcome.DEAD and result.splittable


def test_receiver_is_strict() -> None:
    """The fake rejects what ES rejects, so the round trips above mean something."""
    with ElasticReceiver(api_key=(KEY_ID, KEY)) as es:
        conn = connector(es.url)
        [req] = conn.build_requests(EVENTS[:1])
        from delivery.transports.http import HttpTransport

        t = HttpTransport()
        no_newline = t.send(type(req)(body=req.body.rstrip(b"\n"), headers=req.headers, url=req.url))
        assert no_newline.status_code == 400 and b"terminated by a newline" in no_newline.body
        wrong_type = t.send(req, headers={**req.headers, "Content-Type": "text/plain"})
        assert wrong_type.status_code == 406
        no_auth = t.send(req, headers={"Content-Type": "application/x-ndjson"})
        assert no_auth.status_code == 401 and b"missing authentication credentials" in no_auth.body
        t.close()
