"""REST API: integrations CRUD, test button, ingest, dead letters, audit, auth — and no secret leaks."""

from __future__ import annotations

import gzip
import json

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from rest_framework.test import APIClient

from delivery.models import DeadLetter, Delivery, Event
from delivery.sender import integration_drain
from integrations.models import AuditEntry, Integration
from tests.conftest import HEC_TOKEN

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def roles():
    from integrations.roles import ensure_roles

    ensure_roles()


@pytest.fixture
def admin_user():
    user = User.objects.create_user("alice", password="pw-alice-123")
    user.groups.add(Group.objects.get(name="SIEM admins"))
    return user


@pytest.fixture
def viewer_user():
    user = User.objects.create_user("victor", password="pw-victor-123")
    user.groups.add(Group.objects.get(name="SIEM viewers"))
    return user


@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


def create_splunk(api, hec, token=HEC_TOKEN, **config):
    resp = api.post("/v1/settings/siem", {"integration_type": "splunk", "name": "Splunk prod",
                                          "config": {"endpoint": hec.url, "token": token, "index": "security", **config}},
                    format="json")
    assert resp.status_code == 201, resp.content
    return resp.json()


def test_create_read_update_keeps_secret_and_never_returns_it(api, hec):
    created = create_splunk(api, hec)
    assert created["has_token"] is True and "token" not in created["config"]
    assert created["status"] == "not_yet_invoked"
    pk = created["id"]
    resp = api.patch(f"/v1/settings/siem/{pk}", {"config": {"index": "main"}}, format="json")
    assert resp.status_code == 200 and resp.json()["config"]["index"] == "main"
    integ = Integration.objects.get(pk=pk)
    assert integ.get_secrets() == {"token": HEC_TOKEN}
    resp = api.put(f"/v1/settings/siem/{pk}", {"name": "Renamed", "config": {"endpoint": hec.url}}, format="json")
    assert resp.status_code == 200 and resp.json()["has_token"] is True
    for path in ("/v1/settings/siem", f"/v1/settings/siem/{pk}", "/v1/audit"):
        assert HEC_TOKEN not in api.get(path).content.decode()
    raw = Integration.objects.filter(pk=pk).values_list("secrets", flat=True)
    from django.db import connection
    with connection.cursor() as cur:
        cur.execute("SELECT secrets FROM integrations_integration")
        assert HEC_TOKEN not in cur.fetchone()[0]
    assert api.delete(f"/v1/settings/siem/{pk}").status_code == 204
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["siem.integration.created", "siem.integration.updated", "siem.integration.updated",
                       "siem.integration.deleted"]
    for entry in AuditEntry.objects.all():
        assert HEC_TOKEN not in json.dumps(entry.changes)
    assert AuditEntry.objects.order_by("id").first().changes["secrets"] == {"token": "[REDACTED]"}


def test_bad_config_names_each_field(api):
    resp = api.post("/v1/settings/siem", {"integration_type": "splunk", "name": "x",
                                          "config": {"endpoint": "ftp://nope", "tls_verify": "yes", "bogus": 1}},
                    format="json")
    assert resp.status_code == 400
    errors = resp.json()["errors"]
    assert {"config.endpoint", "config.token", "config.tls_verify", "config.bogus"} <= set(errors)
    resp = api.post("/v1/settings/siem", {"integration_type": "nosuch", "name": "x"}, format="json")
    assert resp.status_code == 400 and "integration_type" in resp.json()["errors"]
    resp = api.post("/v1/settings/siem", {"integration_type": "webhook", "name": "x", "config": {
        "endpoint": "https://127.0.0.1:9/h", "secret": "s3cr3t-value", "auth": "header",
        "headers": {"X-Token": "abc\r\nInjected: 1"}}}, format="json")
    assert resp.status_code == 400 and "config.headers" in resp.json()["errors"]
    assert Integration.objects.count() == 0


def test_test_endpoint_real_send_and_decoded_error(api, hec):
    pk = create_splunk(api, hec)["id"]
    resp = api.post(f"/v1/settings/siem/{pk}/test")
    assert resp.json()["success"] is True and resp.json()["status"] == "success"
    assert hec.events[-1]["event"]["event"] == "siem.test"
    api.patch(f"/v1/settings/siem/{pk}", {"config": {"token": "00000000-dead-beef-0000-000000000000"}}, format="json")
    body = api.post(f"/v1/settings/siem/{pk}/test").json()
    assert body["success"] is False and "Invalid token" in body["message"] and body["status"] == "error"
    assert "00000000-dead-beef" not in json.dumps(body)
    tested = AuditEntry.objects.filter(action="siem.integration.tested").count()
    assert tested == 2


def test_ingest_shapes_gzip_dedup_and_delivery(api, hec):
    pk = create_splunk(api, hec)["id"]
    events = [
        {"event": "finding.new", "timestamp": "2026-01-01T00:00:00Z", "data": {"severity": "high", "title": "t"}},
        {"event_type": "transaction.denied", "timestamp": "2026-01-01T00:00:01+02:00", "subject": "bob"},
        {"id": "6f1c1e0e-1d2b-4d6e-9a4e-0a0b0c0d0e0f", "type": "scan.completed", "severity": "low", "data": {}},
    ]
    resp = api.post("/v1/events", data=gzip.compress(json.dumps(events).encode()), content_type="application/json",
                    HTTP_CONTENT_ENCODING="gzip")
    assert resp.status_code == 202, resp.content
    body = resp.json()
    assert body["accepted"] == 3 and body["ids"][2] == "6f1c1e0e-1d2b-4d6e-9a4e-0a0b0c0d0e0f"
    again = api.post("/v1/events", data=json.dumps(events[2]), content_type="application/json")
    assert again.status_code == 202
    assert Event.objects.filter(type__in=["finding.new", "transaction.denied", "scan.completed"]).count() == 3
    flat = Event.objects.get(type="transaction.denied").as_dict()
    assert flat["data"] == {"subject": "bob"} and flat["timestamp"] == "2025-12-31T22:00:01.000000Z"
    integration_drain(pk)
    sent = [e["event"]["event"] for e in hec.events]
    assert sent[-3:] == ["finding.new", "transaction.denied", "scan.completed"]


def test_ingest_rejects_bad_input_and_stores_nothing(api, settings):
    before = Event.objects.count()
    assert api.post("/v1/events", data="{not json", content_type="application/json").status_code == 400
    resp = api.post("/v1/events", data=json.dumps([{"event": "finding.new"}, {"event": 5, "timestamp": "yesterday"},
                                                   {"type": "x.y", "severity": "urgent"}]),
                    content_type="application/json")
    assert resp.status_code == 400
    fields = {(p["index"], p["field"]) for p in resp.json()["problems"]}
    assert fields == {(1, "event"), (1, "timestamp"), (2, "severity")}
    settings.SIEMHUB_INGEST_MAX_BYTES = 1000
    huge = json.dumps({"event": "finding.new", "data": {"blob": "x" * 5000}})
    assert api.post("/v1/events", data=huge, content_type="application/json").status_code == 413
    bomb = gzip.compress(huge.encode())
    assert api.post("/v1/events", data=bomb, content_type="application/json",
                    HTTP_CONTENT_ENCODING="gzip").status_code == 413
    assert Event.objects.count() == before


def test_permissions(viewer_user, admin_user, hec):
    anon = APIClient()
    assert anon.get("/v1/settings/siem").status_code == 401
    assert anon.post("/v1/events", data="{}", content_type="application/json").status_code == 401
    viewer = APIClient()
    viewer.force_authenticate(viewer_user)
    assert viewer.get("/v1/settings/siem").status_code == 200
    assert viewer.get("/v1/audit").status_code == 200
    resp = viewer.post("/v1/settings/siem", {"integration_type": "splunk", "name": "x", "config": {}}, format="json")
    assert resp.status_code == 403 and "error" in resp.json()
    nobody = User.objects.create_user("nobody", password="pw-nobody-123")
    client = APIClient()
    client.force_authenticate(nobody)
    assert client.get("/v1/settings/siem").status_code == 403


def test_api_key_command_and_bearer_auth(admin_user, capsys):
    call_command("create_api_key", "--user", "alice", "--name", "ci")
    key = capsys.readouterr().out.strip().splitlines()[-1]
    client = APIClient()
    resp = client.get("/v1/settings/siem", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert resp.status_code == 200
    assert client.get("/v1/settings/siem", HTTP_AUTHORIZATION="Bearer shk_0000_nope").status_code == 401
    from integrations.models import ApiKey
    row = ApiKey.objects.get()
    assert key not in row.key_hash and len(row.key_hash) == 64
    assert key not in json.dumps(AuditEntry.objects.get(action="siem.api_key.created").changes)


def test_dead_letter_api_and_replay(api, hec):
    pk = create_splunk(api, hec)["id"]
    from tests.receivers.base import Reply
    hec.responder = lambda req: Reply(400, b'{"text":"Invalid data format","code":6}')
    api.post("/v1/events", data=json.dumps({"event": "finding.new", "data": {}}), content_type="application/json")
    integration_drain(pk)
    letters = api.get(f"/v1/settings/siem/dead-letters?integration_id={pk}").json()
    finding_letters = [d for d in letters if d["event"]["type"] == "finding.new"]
    assert finding_letters and "Invalid data format" in finding_letters[0]["error"]
    hec.responder = None
    resp = api.post("/v1/settings/siem/dead-letters/replay", {"integration_id": pk}, format="json")
    assert resp.status_code == 200 and resp.json()["replayed"] >= 1
    integration_drain(pk)
    assert "finding.new" in [e["event"]["event"] for e in hec.events]
    assert api.get(f"/v1/settings/siem/dead-letters?integration_id={pk}").json() == []
    assert api.post("/v1/settings/siem/dead-letters/replay", {"ids": ["x"]}, format="json").status_code == 400
    deliveries = api.get(f"/v1/settings/siem/{pk}/deliveries").json()
    assert deliveries[0]["outcome"] == "ok" and deliveries[-1]["status_code"] == 400


def test_health_metrics_schema(api, hec):
    create_splunk(api, hec)
    assert APIClient().get("/healthz").json()["status"] == "ok"
    text = APIClient().get("/metrics").content.decode()
    assert "siemhub_pending_events{" in text and "# TYPE siemhub_delivered_events_total counter" in text
    assert api.get("/v1/schema").status_code == 200
