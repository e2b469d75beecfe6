"""Sentinel (Logs Ingestion API): token flow and cache, DCR rows, gzip, 1 MB split, error decoding."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator

import pytest

from delivery.connectors import get_connector
from delivery.connectors._http_common import AuthenticationFailed
from delivery.connectors.base import OutboundRequest, Outcome
from delivery.connectors.sentinel import SentinelConnector, SentinelForm, clear_token_cache
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
from tests.receivers.sentinel import SentinelReceiver, aad_error

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
SECRET = "Qx~8Q~very-secret-client-value_123"
DCR = "dcr-00112233445566778899aabbccddeeff"

pytestmark = pytest.mark.usefixtures("fake_ocsf")


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    clear_token_cache()
    yield
    clear_token_cache()


def connector(base: str = "https://dce.eastus-1.ingest.monitor.azure.com", authority: str = "", secret: str = SECRET) -> SentinelConnector:
    config = {"tenant_id": TENANT, "client_id": CLIENT, "dcr_endpoint": base, "dcr_rule_id": DCR, "stream_name": "Custom-SiemhubEvents"}
    if authority:
        config["authority_host"] = authority
    return SentinelConnector(config=config, secrets={"client_secret": secret})


def receiver(**kwargs: object) -> SentinelReceiver:
    return SentinelReceiver(tenant_id=TENANT, client_id=CLIENT, client_secret=SECRET, dcr_rule_id=DCR, **kwargs)  # type: ignore[arg-type]


def test_registered() -> None:
    assert get_connector("sentinel") is SentinelConnector
    assert SentinelConnector.secret_fields == ("client_secret",)


def test_golden_rows_gzip_and_headers() -> None:
    [req] = connector().build_requests(EVENTS)
    assert req.body[:2] == b"\x1f\x8b" and req.body[4:8] == b"\x00\x00\x00\x00"  # gzip, mtime 0: deterministic
    plain = gzip.decompress(req.body)
    assert_golden("sentinel.json", plain)
    rows = json.loads(plain)
    assert [r["EventId"] for r in rows] == [e["id"] for e in EVENTS]
    assert rows[0]["RawOCSF"] == dumps_str(fake_to_ocsf(EVENTS[0]))
    assert rows[0]["OcsfClassUid"] == 2004 and rows[1]["OrgId"] == "" and rows[1]["AssetTags"] == []
    assert req.url == (
        "https://dce.eastus-1.ingest.monitor.azure.com/dataCollectionRules/"
        f"{DCR}/streams/Custom-SiemhubEvents?api-version=2023-01-01"
    )
    assert req.headers == {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    assert "Authorization" not in req.headers  # added at send time from the token cache


@pytest.mark.skipif(not real_ocsf_available(), reason="delivery/formats/ocsf.py not written yet")
def test_raw_ocsf_is_the_real_ocsf_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.delitem(sys.modules, "delivery.formats.ocsf")
    from delivery.formats.ocsf import to_ocsf

    [req] = connector().build_requests(EVENTS[:1])
    row = json.loads(gzip.decompress(req.body))[0]
    assert json.loads(row["RawOCSF"]) == json.loads(dumps_str(to_ocsf(EVENTS[0])))


def test_form() -> None:
    data = {"tenant_id": TENANT, "client_id": CLIENT, "client_secret": SECRET, "dcr_endpoint": "https://x.ingest.monitor.azure.com", "dcr_rule_id": DCR}
    form = SentinelForm(data=data)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["authority_host"] == "https://login.microsoftonline.com"
    assert form.cleaned_data["stream_name"] == "Custom-SiemhubEvents"
    assert not SentinelForm(data={**data, "dcr_rule_id": "my-rule"}).is_valid()
    assert not SentinelForm(data={**data, "tenant_id": "contoso"}).is_valid()
    assert not SentinelForm(data={**data, "stream_name": "Siemhub"}).is_valid()


# -- splitting: 1 MB measured on the uncompressed JSON --------------------------------------


def test_split_by_count() -> None:
    events = [make_event(i) for i in range(2500)]
    requests = connector().build_requests(events)
    assert [len(r.event_ids) for r in requests] == [1000, 1000, 500]
    assert_split_invariants(requests, events)


def test_split_by_uncompressed_bytes_never_truncates() -> None:
    # Each row carries the data twice (Data and RawOCSF): ~300 KB per row, 3 rows per request.
    events = [make_event(i, payload_size=150_000) for i in range(7)] + [make_event(50, payload_size=1_200_000)]
    requests = connector().build_requests(events)
    assert_split_invariants(requests, events)
    assert [len(r.event_ids) for r in requests] == [3, 3, 1, 1]
    for req in requests[:-1]:
        assert len(gzip.decompress(req.body)) <= 1_000_000  # holds compressed or not
    [big] = json.loads(gzip.decompress(requests[-1].body))
    assert requests[-1].event_ids == (events[-1]["id"],) and len(big["Data"]["pad"]) == 1_200_000


# -- token flow -----------------------------------------------------------------------------


class FakeAuthority:
    """Counts token requests and answers like Entra ID."""

    def __init__(self, answers: list) -> None:
        self.answers = answers
        self.requests: list[OutboundRequest] = []

    def __call__(self, request: OutboundRequest):  # noqa: ANN204
        self.requests.append(request)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def token_answer(token: str = "tok-1", expires_in: int = 3599):
    return response(200, json.dumps({"token_type": "Bearer", "expires_in": expires_in, "access_token": token}))


def test_token_request_and_cache() -> None:
    authority = FakeAuthority([token_answer("tok-1")])
    conn = connector()
    conn.clock = lambda: 1_000_000.0  # type: ignore[method-assign]
    conn.authenticate(authority)
    [sent] = authority.requests
    assert sent.url == f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    from urllib.parse import parse_qs

    form = {k: v[0] for k, v in parse_qs(sent.body.decode()).items()}
    assert form == {"client_id": CLIENT, "client_secret": SECRET, "grant_type": "client_credentials", "scope": "https://monitor.azure.com//.default"}
    assert conn.request_headers(sent) == sent.headers  # the token request goes out untouched
    [req] = conn.build_requests(EVENTS[:1])
    assert conn.request_headers(req)["Authorization"] == "Bearer tok-1"

    # A second connector (next batch, other worker thread) reuses the cached token ...
    again = connector()
    again.clock = lambda: 1_000_000.0 + 3599 - 301  # type: ignore[method-assign]
    again.authenticate(authority)
    assert len(authority.requests) == 1
    # ... until 5 minutes before expiry.
    authority.answers = [token_answer("tok-2")]
    later = connector()
    later.clock = lambda: 1_000_000.0 + 3599 - 299  # type: ignore[method-assign]
    later.authenticate(authority)
    assert len(authority.requests) == 2 and later.request_headers(req)["Authorization"] == "Bearer tok-2"
    # Another secret is another cache entry (a rotated secret never uses the old token).
    other = connector(secret="another-secret-value")
    other.clock = lambda: 1_000_000.0  # type: ignore[method-assign]
    other.authenticate(authority)
    assert len(authority.requests) == 3


def test_401_drops_cached_token() -> None:
    authority = FakeAuthority([token_answer("tok-1")])
    conn = connector()
    conn.authenticate(authority)
    [req] = conn.build_requests(EVENTS[:1])
    result = conn.parse_response(req, response(401, json.dumps({"error": {"code": "InvalidToken", "message": "expired"}})))
    assert result.outcome is Outcome.RETRY and "new token" in result.detail
    assert "Authorization" not in conn.request_headers(req)
    authority.answers = [token_answer("tok-2")]
    connector().authenticate(authority)
    assert len(authority.requests) == 2


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (aad_error(401, "invalid_client", 7000215, "Invalid client secret provided."), "Azure AD rejected the client secret"),
        (aad_error(401, "invalid_client", 7000222, "The provided client secret keys are expired."), "client secret has expired"),
        (aad_error(400, "unauthorized_client", 700016, "Application not found."), "does not know this client_id"),
        (aad_error(400, "invalid_request", 90002, "Tenant 'x' not found."), "tenant_id was not found"),
        (aad_error(400, "invalid_scope", 70011, "scope is not valid"), "AADSTS70011: scope is not valid"),
    ],
)
def test_token_errors_decoded(answer, expected: str) -> None:  # noqa: ANN001
    conn = connector()
    with pytest.raises(AuthenticationFailed) as info:
        conn.authenticate(FakeAuthority([response(answer.status, answer.body)]))
    assert expected in info.value.result.detail
    assert expected in str(info.value)  # the engine records str(exc)
    assert info.value.result.outcome is Outcome.RETRY
    assert "Trace ID" not in info.value.result.detail


def test_token_endpoint_unreachable() -> None:
    with pytest.raises(AuthenticationFailed) as info:
        connector().authenticate(FakeAuthority([response(None, error="Connection refused by login.microsoftonline.com")]))
    assert "Could not get an Azure AD token from login.microsoftonline.com" in info.value.result.detail


def test_ingestion_errors_decoded() -> None:
    conn = connector()
    [req] = conn.build_requests(EVENTS[:2])
    r = conn.parse_response(req, response(204))
    assert r.outcome is Outcome.OK and r.detail == ""
    r = conn.parse_response(req, response(429, json.dumps({"error": {"code": "TooManyRequests", "message": "slow down"}}), {"Retry-After": "12"}))
    assert r.outcome is Outcome.RETRY and r.retry_after_s == 12
    r = conn.parse_response(req, response(403, json.dumps({"error": {"code": "OperationFailed", "message": "The authentication token provided does not have access"}})))
    assert r.outcome is Outcome.RETRY and "Monitoring Metrics Publisher" in r.detail
    r = conn.parse_response(req, response(413, json.dumps({"error": {"code": "ContentLengthLimitExceeded", "message": "Maximum allowed content length: 1048576 bytes (1 MB)."}})))
    assert r.outcome is Outcome.DEAD and r.splittable and "1 MB" in r.detail
    r = conn.parse_response(req, response(400, json.dumps({"error": {"code": "InvalidPayload", "message": "bad row"}})))
    assert r.outcome is Outcome.DEAD and r.splittable
    r = conn.parse_response(req, response(503, b""))
    assert r.outcome is Outcome.RETRY


def test_no_secret_in_details() -> None:
    conn = connector()
    conn.authenticate(FakeAuthority([token_answer("ey.access-token-value-42")]))
    [req] = conn.build_requests(EVENTS[:1])
    echo = f"client_secret={SECRET} Authorization: Bearer ey.access-token-value-42"
    texts = [
        conn.parse_response(req, response(code, json.dumps({"error": {"code": "X", "message": echo}}))).detail
        for code in (400, 401, 403, 404, 413, 500)
    ]
    texts.append(conn.describe_error(response(500, echo)))
    with pytest.raises(AuthenticationFailed) as info:
        connector().authenticate(FakeAuthority([response(401, json.dumps({"error": "invalid_client", "error_description": echo}))]))
    texts.append(info.value.result.detail)
    for text in texts:
        assert SECRET not in text and "access-token-value-42" not in text, text


# -- real HTTP round trips ------------------------------------------------------------------


def test_round_trip_token_then_rows() -> None:
    with receiver() as az:
        conn = connector(az.url, authority=az.url)
        [(req, resp, result)] = send_all(conn, EVENTS)
        assert resp.status_code == 204 and result.outcome is Outcome.OK, result.detail
        assert az.token_requests == 1
        assert [r["EventId"] for r in az.rows] == [e["id"] for e in EVENTS]
        assert az.dropped_columns == set()  # every column we send is declared in the DCR stream
        assert az.received[-1].raw_body[:2] == b"\x1f\x8b"
        send_all(connector(az.url, authority=az.url), EVENTS[:1])
        assert az.token_requests == 1  # cached


def test_round_trip_wrong_secret_is_decoded() -> None:
    with receiver() as az:
        conn = connector(az.url, authority=az.url, secret="the-secret-ID-not-value")
        with pytest.raises(AuthenticationFailed) as info:
            send_all(conn, EVENTS[:1])
        assert "Azure AD rejected the client secret" in info.value.result.detail
        assert az.rows == []


def test_round_trip_revoked_token_recovers() -> None:
    with receiver() as az:
        send_all(connector(az.url, authority=az.url), EVENTS[:1])
        az.revoke_tokens()
        [(_, resp, result)] = send_all(connector(az.url, authority=az.url), EVENTS[1:2])
        assert resp.status_code == 401 and result.outcome is Outcome.RETRY
        [(_, resp, result)] = send_all(connector(az.url, authority=az.url), EVENTS[1:2])
        assert resp.status_code == 204 and az.token_requests == 2


def test_round_trip_missing_role_and_wrong_dcr() -> None:
    with receiver(has_role=False) as az:
        [(_, _, result)] = send_all(connector(az.url, authority=az.url), EVENTS[:1])
        assert result.outcome is Outcome.RETRY and "Monitoring Metrics Publisher" in result.detail
    with receiver() as az:
        conn = connector(az.url, authority=az.url)
        conn.config["dcr_rule_id"] = "dcr-ffffffffffffffffffffffffffffffff"
        [(_, resp, result)] = send_all(conn, EVENTS[:1])
        assert resp.status_code == 404 and "DCR immutable ID" in result.detail


def test_round_trip_oversized_event_alone_gets_413() -> None:
    with receiver() as az:
        events = [make_event(1), make_event(2, payload_size=1_100_000), make_event(3)]
        results = send_all(connector(az.url, authority=az.url), events)
        assert [r.outcome for _, _, r in results] == [Outcome.OK, Outcome.DEAD, Outcome.OK]
        assert results[1][1].status_code == 413 and results[1][2].splittable
        assert results[1][0].event_ids == (events[1]["id"],)


@pytest.mark.skipif(not real_ocsf_available(), reason="delivery/formats/ocsf.py not written yet")
def test_round_trip_with_the_real_ocsf_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real OCSF encoder's output fits the declared stream (OcsfClassUid is an int)."""
    import sys

    monkeypatch.delitem(sys.modules, "delivery.formats.ocsf")
    with receiver() as az:
        [(_, resp, result)] = send_all(connector(az.url, authority=az.url), EVENTS)
        assert resp.status_code == 204 and result.outcome is Outcome.OK, result.detail
        assert all(isinstance(row["OcsfClassUid"], int) for row in az.rows)
        assert az.dropped_columns == set()
