"""Django admin: writes go through the services (validated, audited); secrets are write-only;
records (attempts, dead letters, audit entries) are read-only; API keys are shown once."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

import delivery
from delivery.models import DeadLetter
from delivery.sender import integration_drain
from integrations.models import ApiKey, AuditEntry, Integration
from tests.conftest import HEC_TOKEN, make_integration
from tests.receivers.base import Reply

pytestmark = pytest.mark.django_db

OTHER_TOKEN = "99999999-8888-7777-6666-555555555555"
URL = "/admin/integrations/integration/"


@pytest.fixture(autouse=True)
def roles():
    from integrations.roles import ensure_roles

    ensure_roles()


@pytest.fixture
def staff() -> Client:
    """A SIEM admin with admin-site access (is_staff), no superuser shortcuts."""
    user = User.objects.create_user("alice", password="pw-alice-123", is_staff=True)
    user.groups.add(Group.objects.get(name="SIEM admins"))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def superuser() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="pw-root-123"))
    return client


@pytest.fixture
def splunk(hec):
    return make_integration("splunk", name="Splunk prod", config={"endpoint": hec.url, "index": "security"},
                            secrets={"token": HEC_TOKEN})


def add_data(hec, **overrides):
    data = {"name": "Splunk via admin", "integration_type": "splunk", "enabled": "on",
            "config": json.dumps({"endpoint": hec.url, "index": "security"}), "filters": "{}",
            "secret__token": HEC_TOKEN}
    data.update(overrides)
    return data


def test_changelist_has_status_columns_and_filters_without_secrets(staff, splunk):
    Integration.objects.filter(pk=splunk.pk).update(status="error", error_count=2, last_error="HTTP 503")
    html = staff.get(URL).content.decode()
    assert "Splunk prod" in html and "Splunk HEC" in html and "Error" in html
    assert "?integration_type=splunk" in html and "?status__exact=error" in html and "enabled__exact" in html
    assert HEC_TOKEN not in html
    assert staff.get(URL, {"integration_type": "elastic"}).content.decode().count("Splunk prod") == 0


def test_add_goes_through_the_service_and_secret_is_write_only(staff, hec):
    resp = staff.post(URL + "add/", add_data(hec))
    assert resp.status_code == 302, resp.content.decode()[:2000]
    integration = Integration.objects.get()
    assert integration.name == "Splunk via admin" and integration.get_secrets() == {"token": HEC_TOKEN}
    assert integration.config["endpoint"] == hec.url and integration.config["sourcetype"] == "_json"
    entry = AuditEntry.objects.get(action="siem.integration.created")
    assert entry.actor_name == "alice" and HEC_TOKEN not in json.dumps(entry.changes)
    page = staff.get(f"{URL}{integration.pk}/change/").content.decode()
    assert HEC_TOKEN not in page and "Stored — leave blank to keep the current value." in page
    assert re.search(r'<input type="password" name="secret__token"[^>]*>', page)
    assert 'value="' + HEC_TOKEN not in page


def test_add_errors_come_from_the_connector_form(staff, hec):
    resp = staff.post(URL + "add/", add_data(hec, config=json.dumps({"endpoint": "ftp://x"}), secret__token=""))
    html = resp.content.decode()
    assert resp.status_code == 200 and not Integration.objects.exists()
    assert "endpoint:" in html and "token" in html.lower() and "required" in html
    leaked = staff.post(URL + "add/", add_data(hec, config=json.dumps({"endpoint": hec.url, "token": OTHER_TOKEN})))
    assert leaked.status_code == 200 and "secret field(s) below" in leaked.content.decode()
    assert not Integration.objects.exists()
    assert OTHER_TOKEN not in leaked.content.decode()


def test_change_keeps_blank_secret_and_audits(staff, hec, splunk):
    url = f"{URL}{splunk.pk}/change/"
    data = {"name": "Renamed", "enabled": "on", "config": json.dumps({"endpoint": hec.url, "index": "main"}),
            "filters": json.dumps({"events": ["finding.*"]}), "secret__token": ""}
    assert staff.post(url, data).status_code == 302
    splunk.refresh_from_db()
    assert splunk.name == "Renamed" and splunk.config["index"] == "main" and splunk.get_secrets() == {"token": HEC_TOKEN}
    assert splunk.filters == {"events": ["finding.*"]}
    assert staff.post(url, {**data, "secret__token": OTHER_TOKEN}).status_code == 302
    splunk.refresh_from_db()
    assert splunk.get_secrets() == {"token": OTHER_TOKEN}
    updates = AuditEntry.objects.filter(action="siem.integration.updated")
    assert updates.count() == 2
    assert all(HEC_TOKEN not in json.dumps(e.changes) and OTHER_TOKEN not in json.dumps(e.changes) for e in updates)


def test_delete_goes_through_the_service(staff, splunk):
    resp = staff.post(f"{URL}{splunk.pk}/delete/", {"post": "yes"})
    assert resp.status_code == 302 and not Integration.objects.exists()
    assert AuditEntry.objects.filter(action="siem.integration.deleted").exists()


def test_actions_test_enable_disable_replay(staff, hec, splunk):
    def act(action):
        return staff.post(URL, {"action": action, "_selected_action": [str(splunk.pk)]}, follow=True)

    resp = act("test_selected")
    assert "Test event delivered" in resp.content.decode()
    splunk.refresh_from_db()
    assert splunk.status == "success"
    act("disable_selected")
    splunk.refresh_from_db()
    assert not splunk.enabled
    act("enable_selected")
    splunk.refresh_from_db()
    assert splunk.enabled
    enabled_changes = [e.changes["enabled"] for e in AuditEntry.objects.filter(action="siem.integration.updated").order_by("id")]
    assert enabled_changes == [{"old": True, "new": False}, {"old": False, "new": True}]
    hec.responder = lambda req: Reply(400, b'{"text":"Invalid data format","code":6}')
    delivery.emit(type="finding.new")
    integration_drain(str(splunk.pk))
    hec.responder = None
    waiting = DeadLetter.objects.filter(replayed_at__isnull=True).count()  # the finding and the audit events
    assert waiting >= 1
    assert f"{waiting} dead letter(s) queued" in act("replay_dead_letters").content.decode()
    assert not DeadLetter.objects.filter(replayed_at__isnull=True).exists()
    assert AuditEntry.objects.filter(action="siem.dead_letter.replayed").exists()


def test_records_are_read_only(staff, hec, splunk):
    staff.post(URL, {"action": "test_selected", "_selected_action": [str(splunk.pk)]})
    entry = AuditEntry.objects.first()
    assert staff.get(f"/admin/integrations/auditentry/{entry.pk}/change/").status_code == 200
    assert staff.post(f"/admin/integrations/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
    assert staff.get("/admin/integrations/auditentry/add/").status_code == 403
    page = staff.get("/admin/delivery/deliveryattempt/").content.decode()
    assert "Splunk prod" in page
    assert staff.get("/admin/delivery/deliveryattempt/add/").status_code == 403
    attempt = splunk.attempts.first()
    view = staff.get(f"/admin/delivery/deliveryattempt/{attempt.pk}/change/").content.decode()
    assert 'name="_save"' not in view
    assert staff.get("/admin/delivery/deadletter/add/").status_code == 403


def test_dead_letter_admin_replay_action(staff, hec, splunk):
    hec.responder = lambda req: Reply(400, b'{"text":"Invalid data format","code":6}')
    delivery.emit(type="finding.new")
    integration_drain(str(splunk.pk))
    dead = DeadLetter.objects.get()
    page = staff.get("/admin/delivery/deadletter/").content.decode()
    assert "replay_selected" in page and "finding.new" in page
    staff.post("/admin/delivery/deadletter/", {"action": "replay_selected", "_selected_action": [str(dead.pk)]})
    dead.refresh_from_db()
    assert dead.replayed_at is not None


def test_api_key_shown_once_and_hash_never(superuser):
    target = User.objects.create_user("bot")
    resp = superuser.post("/admin/integrations/apikey/add/", {"user": target.pk, "name": "ci"})
    assert resp.status_code == 200 and "no-store" in resp["Cache-Control"]
    key = re.search(r'value="(shk_[^"]+)"', resp.content.decode()).group(1)
    row = ApiKey.objects.get()
    assert row.user == target and row.key_hash not in resp.content.decode()
    for page in ("/admin/integrations/apikey/", f"/admin/integrations/apikey/{row.pk}/change/"):
        html = superuser.get(page).content.decode()
        assert key not in html and row.key_hash not in html
    api = Client()
    assert api.get("/v1/settings/siem", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 403  # bot has no role
    assert AuditEntry.objects.filter(action="siem.api_key.created").exists()
    superuser.post("/admin/integrations/apikey/", {"action": "revoke_selected", "_selected_action": [str(row.pk)]})
    row.refresh_from_db()
    assert row.revoked_at is not None
    assert api.get("/v1/settings/siem", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401
    assert AuditEntry.objects.filter(action="siem.api_key.revoked").exists()
    assert superuser.post(f"/admin/integrations/apikey/{row.pk}/delete/", {"post": "yes"}).status_code == 403
