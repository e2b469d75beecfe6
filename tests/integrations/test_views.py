"""Settings → SIEM pages through the Django test client: permissions, CSRF, validation shown
per field, write-only secrets, and the JSON endpoints behind the buttons."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

import delivery
from delivery.connectors import CONNECTORS
from delivery.models import DeadLetter, Delivery
from delivery.sender import integration_drain
from integrations.models import AuditEntry, Integration
from tests.conftest import HEC_TOKEN, make_integration
from tests.receivers.base import Reply

pytestmark = pytest.mark.django_db

OTHER_TOKEN = "99999999-8888-7777-6666-555555555555"


@pytest.fixture(autouse=True)
def roles():
    from integrations.roles import ensure_roles

    ensure_roles()


def _user(name: str, group: str | None) -> User:
    user = User.objects.create_user(name, password=f"pw-{name}-123")
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(_user("alice", "SIEM admins"))
    return client


@pytest.fixture
def viewer_client() -> Client:
    client = Client()
    client.force_login(_user("victor", "SIEM viewers"))
    return client


@pytest.fixture
def splunk(hec):
    return make_integration("splunk", name="Splunk prod", config={"endpoint": hec.url, "index": "security"},
                            secrets={"token": HEC_TOKEN})


def splunk_post(hec, **overrides):
    data = {
        "integration_type": "splunk", "name": "Splunk prod", "enabled": "on",
        "cfg-splunk-endpoint": hec.url, "cfg-splunk-token": HEC_TOKEN, "cfg-splunk-index": "security",
        "cfg-splunk-sourcetype": "_json", "cfg-splunk-tls_verify": "on",
        "filters-events": ["finding.*"], "filters-min_severity": "", "filters-asset_tags": "", "filters-exclude": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def field_error(html: str, field_id: str) -> str:
    """Text of the error block Django's aria-describedby points at for ``field_id``."""
    match = re.search(rf'id="{re.escape(field_id)}_error">(.*?)</div>', html, re.S)
    return re.sub(r"<[^>]+>", " ", match.group(1)) if match else ""


# ---------------------------------------------------------------- access

PAGES = ["siem-list", "siem-new", "siem-audit"]


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_is_sent_to_login(client, name):
    resp = client.get(reverse(name))
    assert resp.status_code == 302 and resp["Location"].startswith("/login/?next=")


def test_anonymous_posts_and_root_redirect(client, splunk):
    assert client.get("/")["Location"] == "/settings/siem/"
    for url in (reverse("siem-test", args=[splunk.pk]), reverse("siem-enable", args=[splunk.pk]),
                reverse("siem-replay", args=[splunk.pk])):
        resp = client.post(url)
        assert resp.status_code == 302 and resp["Location"].startswith("/login/")
    assert client.get(reverse("siem-detail", args=[splunk.pk])).status_code == 302
    splunk.refresh_from_db()
    assert splunk.status == "not_yet_invoked" and splunk.enabled


def test_user_without_role_gets_403(splunk):
    client = Client()
    client.force_login(_user("mallory", None))
    for url in (reverse("siem-list"), reverse("siem-detail", args=[splunk.pk]), reverse("siem-audit")):
        assert client.get(url).status_code == 403
    assert client.post(reverse("siem-enable", args=[splunk.pk]), {"enabled": "off"}).status_code == 403


def test_login_page_and_login(client):
    _user("alice", "SIEM admins")
    page = client.get("/login/")
    assert page.status_code == 200 and b'name="password"' in page.content
    resp = client.post("/login/", {"username": "alice", "password": "pw-alice-123"})
    assert resp.status_code == 302 and resp["Location"] == "/settings/siem/"
    assert client.get("/settings/siem/").status_code == 200


def test_viewer_sees_everything_read_only(viewer_client, splunk):
    html = viewer_client.get(reverse("siem-list")).content.decode()
    assert "Splunk prod" in html and "Splunk HEC" in html and "Not yet invoked" in html
    for control in ("data-toggle", "data-test", 'href="/settings/siem/new/"', "/edit/", 'role="switch"'):
        assert control not in html
    detail = viewer_client.get(reverse("siem-detail", args=[splunk.pk])).content.decode()
    assert "Delivery log" in detail and "Dead letters" in detail
    # the only form a viewer gets is "Sign out"
    assert detail.count("csrfmiddlewaretoken") == 1 and html.count("csrfmiddlewaretoken") == 1
    assert "Replay" not in detail and "Send test event" not in detail
    assert viewer_client.get(reverse("siem-audit")).status_code == 200
    assert viewer_client.get(reverse("siem-edit", args=[splunk.pk])).status_code == 403
    assert viewer_client.get(reverse("siem-new")).status_code == 403


def test_viewer_gets_403_on_every_write(viewer_client, hec, splunk):
    dead = _dead_letter(hec, splunk)
    posts = [
        (reverse("siem-new"), splunk_post(hec, name="Sneaky")),
        (reverse("siem-edit", args=[splunk.pk]), splunk_post(hec, name="Renamed")),
        (reverse("siem-delete", args=[splunk.pk]), {}),
        (reverse("siem-test", args=[splunk.pk]), {}),
        (reverse("siem-enable", args=[splunk.pk]), {"enabled": "off"}),
        (reverse("siem-replay", args=[splunk.pk]), {"all": "1"}),
        (reverse("siem-preview"), splunk_post(hec)),
        (reverse("siem-preview-existing", args=[splunk.pk]), {}),
    ]
    for url, data in posts:
        assert viewer_client.post(url, data).status_code == 403, url
    splunk.refresh_from_db()
    assert splunk.name == "Splunk prod" and splunk.enabled and splunk.status != "success"
    assert Integration.objects.count() == 1
    dead.refresh_from_db()
    assert dead.replayed_at is None
    assert not AuditEntry.objects.filter(actor__username="victor").exists()


def test_csrf_is_enforced_on_page_posts(hec, splunk):
    client = Client(enforce_csrf_checks=True)
    client.force_login(_user("alice", "SIEM admins"))
    for url, data in ((reverse("siem-enable", args=[splunk.pk]), {"enabled": "off"}),
                      (reverse("siem-new"), splunk_post(hec, name="No token")),
                      (reverse("siem-test", args=[splunk.pk]), {})):
        assert client.post(url, data).status_code == 403, url
    splunk.refresh_from_db()
    assert splunk.enabled and Integration.objects.count() == 1
    page = client.get(reverse("siem-list")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    resp = client.post(reverse("siem-enable", args=[splunk.pk]), {"enabled": "off", "csrfmiddlewaretoken": token})
    assert resp.status_code == 302
    splunk.refresh_from_db()
    assert not splunk.enabled


# ---------------------------------------------------------------- list and detail

def test_list_shows_status_pending_and_chart(admin_client, hec, splunk):
    broken = make_integration("splunk", name="Broken", config={"endpoint": hec.url}, secrets={"token": OTHER_TOKEN})
    Integration.objects.filter(pk=broken.pk).update(status="error", error_count=3,
                                                    last_error="Splunk HEC error 4 (HTTP 403): Invalid token")
    delivery.emit(type="finding.new", severity="high")
    html = admin_client.get(reverse("siem-list")).content.decode()
    assert "Invalid token" in html and "3 consecutive failures" in html and "Not yet invoked" in html
    assert html.count('<svg class="chart"') == 2 and "Last 24 hours: 0 delivered" in html
    assert re.search(r"<strong>1</strong> pending", html)
    assert f'action="/settings/siem/{splunk.pk}/enabled"' in html and 'role="switch"' in html
    assert HEC_TOKEN not in html and OTHER_TOKEN not in html


def test_detail_shows_log_config_and_history(admin_client, splunk):
    admin_client.post(reverse("siem-test", args=[splunk.pk]))
    html = admin_client.get(reverse("siem-detail", args=[splunk.pk])).content.decode()
    assert "Delivery log" in html and ">test<" in html and "200" in html
    assert "siem.integration.tested" in html and "Success" in html
    assert ">set<" in html and HEC_TOKEN not in html


# ---------------------------------------------------------------- create / edit

def test_new_page_offers_every_registered_type_with_its_fields(admin_client):
    html = admin_client.get(reverse("siem-new")).content.decode()
    for type_, connector in CONNECTORS.items():
        assert f'value="{type_}"' in html and connector.label in html
        for name in connector.config_form.base_fields:
            assert f'name="cfg-{type_}-{name}"' in html, (type_, name)
        for name in connector.secret_fields:
            tag = re.search(rf'<(input|textarea)[^>]*name="cfg-{type_}-{name}"[^>]*>', html).group(0)
            assert tag.startswith("<textarea") or 'type="password"' in tag
        if connector.example_url:
            assert escape(connector.example_url) in html
        if connector.deprecated:
            assert escape(connector.deprecated) in html
    assert html.count('data-type-fields="') == len(CONNECTORS)


def test_new_page_wires_auth_dependent_fields_and_presets(admin_client):
    html = admin_client.get(reverse("siem-new") + "?type=webhook").content.decode()
    if "webhook" in CONNECTORS:
        assert re.search(r'data-show-when="cfg-webhook-auth" data-show-values="basic"[^>]*>\s*<div class="field__label-row">\s*'
                         r'<label for="id_cfg-webhook-username"', html)
        assert 'data-show-when="cfg-webhook-auth" data-show-values="header"' in html
    if "elastic" in CONNECTORS:
        assert 'name="cfg-elastic-credential"' in html
        assert 'data-show-when="cfg-elastic-credential" data-show-values="basic"' in html
    import sys
    for type_, connector in CONNECTORS.items():
        presets = getattr(sys.modules[connector.__module__], "PRESETS", None)
        for key, values in (presets or {}).items():
            assert f'data-prefix="cfg-{type_}"' in html
            assert json.dumps(values.get("config", values)).replace('"', "&quot;") in html


def test_create_valid_integration(admin_client, hec):
    resp = admin_client.post(reverse("siem-new"), splunk_post(hec))
    integration = Integration.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse("siem-detail", args=[integration.pk])
    assert integration.get_secrets() == {"token": HEC_TOKEN}
    assert integration.config["endpoint"] == hec.url and integration.filters == {"events": ["finding.*"]}
    entry = AuditEntry.objects.get(action="siem.integration.created")
    assert entry.actor_name == "alice" and HEC_TOKEN not in json.dumps(entry.changes)


def test_create_errors_are_shown_per_field_and_typed_secret_not_echoed(admin_client, hec):
    resp = admin_client.post(reverse("siem-new"), splunk_post(
        hec, name="", **{"cfg-splunk-endpoint": "ftp://nope", "cfg-splunk-timeout": "9999",
                         "filters-min_severity": "catastrophic", "filters-events_other": "bad type!"}))
    html = resp.content.decode()
    assert resp.status_code == 400 and not Integration.objects.exists()
    assert "https://" in field_error(html, "id_cfg-splunk-endpoint")
    assert field_error(html, "id_cfg-splunk-timeout")
    assert "required" in field_error(html, "id_name")
    assert "must be one of" in field_error(html, "id_filters-min_severity")
    assert "wildcard" in field_error(html, "id_filters-events_other")
    assert 'aria-invalid="true"' in html
    assert HEC_TOKEN not in html  # the typed token is not put back into the page
    assert 'value="Splunk prod"' not in html and 'value="ftp://nope"' in html  # other values are kept


def test_create_with_unknown_type_is_rejected(admin_client, hec):
    resp = admin_client.post(reverse("siem-new"), splunk_post(hec, integration_type="carrier-pigeon"))
    assert resp.status_code == 400 and "unknown integration_type" in resp.content.decode()
    assert not Integration.objects.exists()


def test_edit_keeps_blank_secret_replaces_typed_one_and_never_renders_it(admin_client, hec, splunk):
    url = reverse("siem-edit", args=[splunk.pk])
    page = admin_client.get(url).content.decode()
    assert HEC_TOKEN not in page and "leave blank to keep the current value" in page
    assert re.search(r'<input type="password" name="cfg-splunk-token"[^>]*>', page)
    assert 'value="security"' in page
    resp = admin_client.post(url, splunk_post(hec, name="Renamed", **{"cfg-splunk-token": ""}))
    assert resp.status_code == 302
    splunk.refresh_from_db()
    assert splunk.name == "Renamed" and splunk.get_secrets() == {"token": HEC_TOKEN}
    admin_client.post(url, splunk_post(hec, **{"cfg-splunk-token": OTHER_TOKEN}))
    splunk.refresh_from_db()
    assert splunk.get_secrets() == {"token": OTHER_TOKEN}
    changes = json.dumps(list(AuditEntry.objects.values_list("changes", flat=True)))
    assert HEC_TOKEN not in changes and OTHER_TOKEN not in changes and "[REDACTED]" in changes
    for name in ("siem-list", "siem-audit"):
        body = admin_client.get(reverse(name)).content.decode()
        assert HEC_TOKEN not in body and OTHER_TOKEN not in body


def test_edit_error_keeps_stored_values(admin_client, hec, splunk):
    resp = admin_client.post(reverse("siem-edit", args=[splunk.pk]),
                             splunk_post(hec, **{"cfg-splunk-endpoint": "", "cfg-splunk-token": ""}))
    assert resp.status_code == 400
    assert "required" in field_error(resp.content.decode(), "id_cfg-splunk-endpoint").lower()
    splunk.refresh_from_db()
    assert splunk.config["endpoint"] == hec.url and splunk.get_secrets() == {"token": HEC_TOKEN}


def test_optional_secret_can_be_removed(admin_client):
    if "webhook" not in CONNECTORS:
        pytest.skip("no webhook connector")
    hook = make_integration("webhook", config={"endpoint": "https://hooks.example.com/x", "signature": "hmac-sha256",
                                               "auth": "basic", "username": "u"},
                            secrets={"secret": "sign-me-please", "password": "hunter2-long"})
    data = {"name": "hook", "enabled": "on", "cfg-webhook-endpoint": "https://hooks.example.com/x",
            "cfg-webhook-signature": "hmac-sha256", "cfg-webhook-auth": "none",
            "cfg-webhook-password__clear": "1"}
    assert admin_client.post(reverse("siem-edit", args=[hook.pk]), data).status_code == 302
    hook.refresh_from_db()
    assert hook.get_secrets() == {"secret": "sign-me-please"}


def test_delete_goes_through_the_service(admin_client, splunk):
    assert admin_client.get(reverse("siem-delete", args=[splunk.pk])).status_code == 200
    assert admin_client.post(reverse("siem-delete", args=[splunk.pk])).status_code == 302
    assert not Integration.objects.exists()
    assert AuditEntry.objects.filter(action="siem.integration.deleted").exists()


# ---------------------------------------------------------------- buttons

def test_test_button_reports_success_and_decoded_error(admin_client, hec, splunk):
    url = reverse("siem-test", args=[splunk.pk])
    ok = admin_client.post(url, HTTP_ACCEPT="application/json").json()
    assert ok["success"] is True and ok["status"] == "success" and "Success" in ok["status_html"]
    Integration.objects.filter(pk=splunk.pk).update(secrets="")
    splunk.refresh_from_db()
    splunk.set_secrets({"token": OTHER_TOKEN})
    splunk.save()
    bad = admin_client.post(url, HTTP_ACCEPT="application/json").json()
    assert bad["success"] is False and "Invalid token" in bad["message"] and bad["status"] == "error"
    assert "Invalid token" in bad["status_html"] and OTHER_TOKEN not in json.dumps(bad)
    assert AuditEntry.objects.filter(action="siem.integration.tested").count() == 2
    plain = admin_client.post(url)  # without JavaScript: back to the page with a message
    assert plain.status_code == 302


def test_enable_toggle_is_audited(admin_client, splunk):
    url = reverse("siem-enable", args=[splunk.pk])
    off = admin_client.post(url, {"enabled": "off"}, HTTP_ACCEPT="application/json").json()
    assert off["enabled"] is False
    on = admin_client.post(url, {"enabled": "on"}, HTTP_ACCEPT="application/json").json()
    assert on["enabled"] is True
    changes = [e.changes["enabled"] for e in AuditEntry.objects.filter(action="siem.integration.updated").order_by("id")]
    assert changes == [{"old": True, "new": False}, {"old": False, "new": True}]
    html = admin_client.get(reverse("siem-audit")).content.decode()
    assert html.count("siem.integration.updated") >= 2


def _dead_letter(hec, integration) -> DeadLetter:
    hec.responder = lambda req: Reply(400, b'{"text":"Invalid data format","code":6}')
    delivery.emit(type="finding.new", severity="high", data={"n": 1})
    integration_drain(str(integration.pk))
    hec.responder = None
    return DeadLetter.objects.get(integration=integration)


def test_replay_one_dead_letter_only_of_this_integration(admin_client, hec, splunk):
    dead = _dead_letter(hec, splunk)
    other = make_integration("splunk", name="Other", config={"endpoint": hec.url}, secrets={"token": HEC_TOKEN})
    html = admin_client.get(reverse("siem-detail", args=[splunk.pk])).content.decode()
    assert "Invalid data format" in html and f'name="only" value="{dead.pk}"' in html
    # another integration's page cannot replay this dead letter
    admin_client.post(reverse("siem-replay", args=[other.pk]), {"only": str(dead.pk)})
    dead.refresh_from_db()
    assert dead.replayed_at is None
    resp = admin_client.post(reverse("siem-replay", args=[splunk.pk]), {"only": str(dead.pk)})
    assert resp.status_code == 302 and resp["Location"].endswith("#dead-letters")
    dead.refresh_from_db()
    assert dead.replayed_at is not None and Delivery.objects.filter(integration=splunk, event_id=dead.event_id).exists()
    integration_drain(str(splunk.pk))
    assert "finding.new" in [e["event"]["event"] for e in hec.events]
    html = admin_client.get(reverse("siem-detail", args=[splunk.pk])).content.decode()
    assert "Replayed" in html and "siem.dead_letter.replayed" in html


def test_filter_check_uses_the_engine_matcher(admin_client):
    delivery.emit([{"type": "finding.new", "severity": "high", "asset": {"id": "a", "tags": ["prod"]}},
                   {"type": "scan.completed", "severity": "info"}])
    url = reverse("siem-filter-check")
    body = admin_client.get(url, {"filters-events": "finding.*", "filters-min_severity": "medium"}).json()
    by_type = {r["type"]: r for r in body["results"]}
    assert by_type["finding.new"]["matches"] is True
    assert by_type["scan.completed"]["matches"] is False and "not in the selected" in by_type["scan.completed"]["reason"]
    assert body["summary"].startswith("1 of")
    tags = admin_client.get(url, {"filters-asset_tags": "pci"}).json()
    assert not any(r["matches"] for r in tags["results"])
    bad = admin_client.get(url, {"filters-min_severity": "nope"})
    assert bad.status_code == 400 and "filters.min_severity" in bad.json()["errors"]


def test_preview_shows_the_request_with_secrets_masked(admin_client, hec, splunk):
    resp = admin_client.post(reverse("siem-preview"), splunk_post(hec))
    body = resp.json()
    assert resp.status_code == 200, body
    request = body["requests"][0]
    assert request["url"].endswith("/services/collector/event") and request["method"] == "POST"
    headers = dict(request["headers"])
    assert headers["Authorization"] == "Splunk [REDACTED]"
    assert '"finding.new"' in request["body"] and '"index":"security"' in request["body"].replace(" ", "")
    assert HEC_TOKEN not in resp.content.decode()
    stored = admin_client.post(reverse("siem-preview-existing", args=[splunk.pk]),
                               splunk_post(hec, **{"cfg-splunk-token": ""}))
    assert stored.status_code == 200 and HEC_TOKEN not in stored.content.decode()
    missing = admin_client.post(reverse("siem-preview"), splunk_post(hec, **{"cfg-splunk-endpoint": ""}))
    assert missing.status_code == 400 and "config.endpoint" in missing.json()["errors"]


def test_preview_masks_url_credentials_and_basic_auth(admin_client):
    if "webhook" not in CONNECTORS:
        pytest.skip("no webhook connector")
    data = {"integration_type": "webhook", "cfg-webhook-endpoint": "https://hooks.example.com/in",
            "cfg-webhook-signature": "hmac-sha256", "cfg-webhook-secret": "signing-secret-1",
            "cfg-webhook-auth": "basic", "cfg-webhook-username": "bob", "cfg-webhook-password": "pa55word-xyz"}
    resp = admin_client.post(reverse("siem-preview"), data)
    text = resp.content.decode()
    assert resp.status_code == 200, text
    headers = dict(resp.json()["requests"][0]["headers"])
    assert headers["Authorization"] == "Basic [REDACTED]" and headers["X-Siemhub-Signature"] == "[REDACTED]"
    assert "signing-secret-1" not in text and "pa55word-xyz" not in text


def test_audit_page_shows_actor_time_and_redacted_diff(admin_client, hec):
    admin_client.post(reverse("siem-new"), splunk_post(hec))
    integration = Integration.objects.get()
    admin_client.post(reverse("siem-edit", args=[integration.pk]),
                      splunk_post(hec, **{"cfg-splunk-token": OTHER_TOKEN, "cfg-splunk-index": "main"}))
    html = admin_client.get(reverse("siem-audit")).content.decode()
    assert "siem.integration.created" in html and "siem.integration.updated" in html and "alice" in html
    assert "config.index" in html and "security" in html and "main" in html
    assert "secrets.token" in html and "[REDACTED]" in html
    assert HEC_TOKEN not in html and OTHER_TOKEN not in html
    only_updates = admin_client.get(reverse("siem-audit"), {"action": "siem.integration.updated"}).content.decode()
    assert "siem.integration.created</span>" not in only_updates


PREVIEW_SAMPLES = {
    "splunk": {"endpoint": "https://splunk.example.com:8088", "token": "tok-1234567890"},
    "elastic": {"url": "https://es.example.com:9200", "api_key": "id:keyvalue-12345"},
    "sentinel": {"tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47", "client_id": "11111111-2222-3333-4444-555555555555",
                 "client_secret": "cs-secret-value-1", "dcr_endpoint": "https://my-dce.eastus-1.ingest.monitor.azure.com",
                 "dcr_rule_id": "dcr-0123456789abcdef0123456789abcdef"},
    "sentinel_legacy": {"workspace_id": "72f988bf-86f1-41af-91ab-2d7cd011db47", "shared_key": "c2hhcmVkLWtleS12YWx1ZQ=="},
    "datadog": {"api_key": "dd-api-key-value-1234"},
    "sumo": {"url": "https://collectors.sumologic.com/receiver/v1/http/SECRETCODE1234567"},
    "syslog": {"host": "siem.example.com", "protocol": "tcp", "format": "cef"},
    "xsiam": {"url": "https://api-t.xdr.us.paloaltonetworks.com/logs/v1/event", "api_key": "xsiam-key-secret-987",
              "api_key_id": "7"},
    "webhook": {"endpoint": "https://hooks.example.com/x", "secret": "hook-secret-5555"},
}


@pytest.mark.parametrize("type_", sorted(CONNECTORS))
def test_preview_of_every_type_never_shows_a_secret(admin_client, type_):
    sample = PREVIEW_SAMPLES.get(type_)
    if sample is None:
        pytest.skip(f"no sample settings for {type_} yet")
    resp = admin_client.post(reverse("siem-preview"),
                             {"integration_type": type_, **{f"cfg-{type_}-{k}": v for k, v in sample.items()}})
    text = resp.content.decode()
    assert resp.status_code == 200, text
    requests = resp.json()["requests"]
    assert requests and all(r["body"] for r in requests)
    for name in CONNECTORS[type_].secret_fields:
        if name in sample:
            assert sample[name] not in text, name
    if type_ == "sumo":  # the URL is the credential: host shown, path masked
        assert requests[0]["url"] == "https://collectors.sumologic.com/[REDACTED]"
