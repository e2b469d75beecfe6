"""Webhook connector: exact bodies, HMAC and Standard Webhooks signatures, auth, splitting."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from delivery.connectors.webhook import WebhookConnector

E1 = {"id": "0b6c3a1e-8f5e-4c1a-9d7e-2f4b6a8c0d12", "type": "finding.new", "timestamp": "2024-05-31T16:08:37.123000Z",
      "severity": "high", "org_id": "acme", "asset": None, "data": {"title": "a \"quoted\" \\ title\nline2 ü"}}
E2 = {**E1, "id": "1b6c3a1e-8f5e-4c1a-9d7e-2f4b6a8c0d12", "type": "auth.login.failed", "severity": "medium"}


def make(**config):
    secrets = {k: config.pop(k) for k in ("secret", "password", "headers") if k in config}
    return WebhookConnector(config={"endpoint": "https://127.0.0.1:9/h", **config}, secrets=secrets)


def test_native_body_and_hmac_header():
    [req] = make(secret="It's a Secret to Everybody").build_requests([E1, E2])
    body = json.loads(req.body)
    assert [e["id"] for e in body] == [E1["id"], E2["id"]] and body[0]["event"] == "finding.new"
    assert body[0]["data"]["title"] == E1["data"]["title"]
    expected = hmac.new(b"It's a Secret to Everybody", req.body, hashlib.sha256).hexdigest()
    assert req.headers["X-Siemhub-Signature"] == f"sha256={expected}"
    assert req.headers["webhook-id"].startswith("batch_") and req.headers["X-Siemhub-Event-Count"] == "2"
    [single] = make(secret="s", signature_header="X-Hub-Signature-256").build_requests([E1])
    assert single.headers["webhook-id"] == E1["id"] and "X-Hub-Signature-256" in single.headers


def test_hmac_matches_the_github_test_vector():
    conn = make(secret="It's a Secret to Everybody")
    digest = hmac.new(b"It's a Secret to Everybody", b"Hello, World!", hashlib.sha256).hexdigest()
    assert digest == "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert conn  # the connector uses the same construction, checked above on real bodies


def test_standard_webhooks_signature_with_rotation():
    secret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    conn = make(signature="standard-webhooks", secret=f"{secret} whsec_c2Vjb25k")
    conn.clock = lambda: 1717171717
    [req] = conn.build_requests([E1])
    assert req.headers["webhook-timestamp"] == "1717171717"
    signed = f"{E1['id']}.1717171717.".encode() + req.body
    sigs = req.headers["webhook-signature"].split(" ")
    key = bytes(range(32))
    assert sigs[0] == "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert sigs[1] == "v1," + base64.b64encode(hmac.new(b"second", signed, hashlib.sha256).digest()).decode()


def test_standard_webhooks_worked_example_from_the_spec():
    conn = make(signature="standard-webhooks", secret="whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
    body = b'{"type":"detection.created","timestamp":"2024-05-31T16:08:37Z","data":{"id":"det_1"}}'
    signed = b"msg_01J0000000000000000000000.1717171717." + body
    key = bytes(range(32))
    assert base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode() == \
        "UKOocAPWMbImwFE5mfYUUG59hVL1+JoqouixHahaoYk="
    assert conn.secrets["secret"].startswith("whsec_")


def test_auth_basic_and_secret_headers():
    [req] = make(signature="none", auth="basic", username="u", password="p@ss").build_requests([E1])
    assert req.headers["Authorization"] == "Basic " + base64.b64encode(b"u:p@ss").decode()
    [req] = make(signature="none", auth="header", headers={"X-Api-Key": "k-123"}).build_requests([E1])
    assert req.headers["X-Api-Key"] == "k-123"


def test_transforms_hec_and_bulk():
    [hec] = make(secret="s", transform="splunk_hec").build_requests([E1, E2])
    lines = hec.body.split(b"\n")
    assert lines[0].startswith(b'{"time":1717171717.123,"sourcetype":"_json","event":{')
    [bulk] = make(secret="s", transform="elasticsearch").build_requests([E1])
    assert bulk.body.endswith(b"\n") and bulk.headers["Content-Type"] == "application/x-ndjson"
    action, doc = bulk.body.split(b"\n")[:2]
    assert json.loads(action) == {"create": {"_index": "siemhub-events", "_id": E1["id"]}}
    assert json.loads(doc)["@timestamp"] == E1["timestamp"]


def test_split_by_count_and_bytes_never_truncates():
    events = [{**E1, "id": f"00000000-0000-4000-8000-{i:012d}", "data": {"blob": "x" * 300_000}} for i in range(5)]
    reqs = make(secret="s", max_events=2).build_requests(events)
    assert [len(r.event_ids) for r in reqs] == [2, 2, 1]  # max_events 2; 2 × 300 kB fit in 1 MB
    assert all(len(json.loads(r.body)) == len(r.event_ids) for r in reqs)
    assert sum((len(r.event_ids) for r in reqs)) == 5
    big = make(secret="s").build_requests(events)  # default 100 events: the 1 MB cap splits 3 + 2
    assert [len(r.event_ids) for r in big] == [3, 2] and all(len(r.body) <= 1_000_000 for r in big)
    huge = {**E1, "data": {"blob": "y" * 1_500_000}}
    [alone] = make(secret="s").build_requests([huge])
    assert json.loads(alone.body)[0]["data"]["blob"] == "y" * 1_500_000  # over the limit: sent whole, alone
