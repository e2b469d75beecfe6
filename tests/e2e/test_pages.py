"""The Settings → SIEM pages in a real Chromium (Playwright) against ``live_server``, delivering
to a strict local Splunk HEC receiver on 127.0.0.1.

What a user does: log in, add a Splunk integration through the form, press Test, break the
token and see the decoded error, toggle Enable and find both changes in the audit trail,
replay a dead letter; a read-only user cannot change anything; no page ever carries a secret.
Screenshots of the list and edit pages are saved to ``$SIEMHUB_TEST_ARTIFACTS``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import Page, expect

import delivery
from delivery.models import DeadLetter
from delivery.sender import integration_drain
from integrations import services
from integrations.models import AuditEntry, Integration
from tests.conftest import HEC_TOKEN
from tests.receivers.base import Reply

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WRONG_TOKEN = "00000000-bad0-t0k3n-0000-000000000000"
BAD_DATA = Reply(400, b'{"text":"Invalid data format","code":6}')


@pytest.fixture(autouse=True)
def roles():
    from integrations.roles import ensure_roles

    ensure_roles()


def _user(name: str, group: str) -> User:
    user = User.objects.create_user(name, password=f"pw-{name}-123")
    user.groups.add(Group.objects.get(name=group))
    return user


class Session:
    """A browser tab logged in as one user; remembers every page's source for the secret scan."""

    def __init__(self, page: Page, base: str) -> None:
        self.page, self.base = page, base
        self.sources: list[str] = []

    def login(self, username: str) -> None:
        self.page.goto(self.base + "/login/")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(f"pw-{username}-123")
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page).to_have_url(re.compile(r"/settings/siem/$"))
        self.keep()

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.keep()

    def keep(self) -> None:
        self.page.wait_for_load_state("load")
        self.sources.append(self.page.content())

    def assert_no_secret(self, *secrets: str) -> None:
        for source in self.sources:
            for secret in secrets:
                assert secret not in source


def _splunk(admin: User, hec, **config) -> Integration:
    return services.integration_create(
        actor=admin, integration_type="splunk", name="Splunk prod",
        config={"endpoint": hec.url, "token": HEC_TOKEN, "index": "security", **config},
        filters={"events": ["finding.*"]},
    )


def test_admin_creates_tests_breaks_and_toggles(page: Page, live_server, hec, artifacts_dir: Path):
    _user("alice", "SIEM admins")
    tab = Session(page, live_server.url)
    tab.login("alice")
    expect(page.get_by_text("No SIEM integrations yet")).to_be_visible()

    # Add a Splunk integration through the form.
    page.get_by_role("link", name="Add integration").click()
    page.locator("label.typeopt", has_text="Splunk HEC").click()
    page.locator("#id_name").fill("Splunk prod")
    page.locator('[name="cfg-splunk-endpoint"]').fill(hec.url)
    page.locator('[name="cfg-splunk-token"]').fill(HEC_TOKEN)
    page.locator('[name="cfg-splunk-index"]').fill("security")
    page.locator("label.chipcheck", has_text=re.compile(r"^finding\.\*$")).click()
    preview = page.locator("[data-preview-output]")
    expect(preview).to_contain_text("Authorization:")
    expect(preview).to_contain_text("Splunk [REDACTED]")
    expect(preview).to_contain_text("/services/collector/event")
    tab.keep()
    page.get_by_role("button", name="Create integration").click()
    expect(page.get_by_role("heading", name="Splunk prod")).to_be_visible()
    tab.keep()
    integration = Integration.objects.get()
    assert integration.get_secrets() == {"token": HEC_TOKEN} and integration.filters == {"events": ["finding.*"]}
    pk = str(integration.pk)
    status = page.locator(f'[data-status-for="{pk}"]')
    expect(status).to_contain_text("Not yet invoked")

    # Test: a real event reaches the receiver, the status turns green without a reload.
    page.get_by_role("button", name="Send test event").click()
    result = page.locator(f"#test-result-{pk}")
    expect(result).to_contain_text("Success")
    expect(status).to_contain_text("Success")
    expect(status).to_contain_text("Last event delivered")
    assert [e["event"]["event"] for e in hec.events] == ["siem.test"]

    # Break the token: Test shows the decoded HEC error and the Error status.
    page.get_by_role("link", name="Edit").click()
    expect(page.locator('[name="cfg-splunk-token"]')).to_have_value("")
    expect(page.get_by_text("Stored — leave blank to keep the current value.")).to_be_visible()
    tab.keep()
    page.locator('[name="cfg-splunk-token"]').fill(WRONG_TOKEN)
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("saved.")).to_be_visible()
    tab.keep()
    with page.expect_response(re.compile(r"/test$")) as answer:
        page.get_by_role("button", name="Send test event").click()
    assert WRONG_TOKEN not in answer.value.text() and HEC_TOKEN not in answer.value.text()
    expect(result).to_contain_text("Invalid token")
    expect(status).to_contain_text("Error")
    expect(status).to_contain_text("Invalid token")
    tab.keep()

    # Enable off and on from the list; both changes land in the audit trail.
    services.integration_create(actor=None, integration_type="splunk", name="Splunk DR site",
                                config={"endpoint": "http://127.0.0.1:9/services/collector", "token": "dr-token-9f8e7d6c"})
    tab.go("/settings/siem/")
    card = page.locator(f'.card[data-integration="{pk}"]')
    expect(card).to_contain_text("Invalid token")
    switch = page.get_by_role("switch", name="Enable Splunk prod")
    expect(switch).to_be_checked()
    switch.click()
    expect(card.locator("[data-toggle-text]")).to_have_text("Disabled")
    expect(page.locator("#live-region")).to_contain_text("disabled")
    integration.refresh_from_db()
    assert integration.enabled is False
    switch.click()
    expect(card.locator("[data-toggle-text]")).to_have_text("Enabled")
    integration.refresh_from_db()
    assert integration.enabled is True
    page.screenshot(path=str(artifacts_dir / "settings-siem-list.png"), full_page=True)
    tab.keep()

    tab.go("/settings/siem/audit/")
    rows = page.locator("table.table--audit tbody tr", has_text="Splunk prod").filter(has_text="enabled")
    expect(rows.filter(has_text="siem.integration.updated")).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("false")  # newest first: switched back on
    expect(rows.nth(0)).to_contain_text("true")
    page.get_by_label("Show").select_option("siem.integration.tested")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("table.table--audit tbody tr")).to_have_count(2)
    tab.keep()

    # The edit page screenshot, with a stored secret showing its "set" marker.
    tab.go(f"/settings/siem/{pk}/edit/")
    expect(page.locator(".pill--set").first).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "settings-siem-edit.png"), full_page=True)
    tab.assert_no_secret(HEC_TOKEN, WRONG_TOKEN, "dr-token-9f8e7d6c")
    assert (artifacts_dir / "settings-siem-list.png").stat().st_size > 10_000


def test_replay_a_dead_letter(page: Page, live_server, hec):
    admin = _user("alice", "SIEM admins")
    integration = _splunk(admin, hec)
    pk = str(integration.pk)
    hec.responder = lambda req: BAD_DATA
    event_id = delivery.emit(type="finding.new", severity="high", data={"title": "replay me"})[0]
    integration_drain(pk)
    assert hec.events == [] and DeadLetter.objects.filter(integration=integration, replayed_at=None).count() == 1
    hec.responder = None  # the receiver is fixed

    tab = Session(page, live_server.url)
    tab.login("alice")
    tab.go(f"/settings/siem/{pk}/")
    row = page.locator("tr[data-dead-letter]", has_text=event_id)
    expect(row).to_contain_text("Invalid data format")
    expect(row).to_contain_text("Dead")
    row.get_by_role("button", name=re.compile("^Replay")).click()
    expect(page.get_by_text("1 dead letter queued for delivery.")).to_be_visible()
    tab.keep()
    row = page.locator("tr[data-dead-letter]", has_text=event_id)
    expect(row).to_contain_text("Replayed")
    expect(row.get_by_role("button")).to_have_count(0)

    integration_drain(pk)
    assert [e["event"]["id"] for e in hec.events] == [event_id]
    tab.go(f"/settings/siem/{pk}/")
    expect(page.locator("table.table").first.locator("tbody tr").first).to_contain_text("Delivered")
    expect(page.locator(f'[data-status-for="{pk}"]')).to_contain_text("Success")
    expect(page.locator(".timeline")).to_contain_text("siem.dead_letter.replayed")
    assert AuditEntry.objects.filter(action="siem.dead_letter.replayed", actor_name="alice").exists()
    tab.assert_no_secret(HEC_TOKEN)


def test_read_only_user_cannot_change_anything(page: Page, live_server, hec):
    admin = _user("alice", "SIEM admins")
    _user("victor", "SIEM viewers")
    integration = _splunk(admin, hec)
    pk = str(integration.pk)
    tab = Session(page, live_server.url)
    tab.login("victor")
    expect(page.get_by_role("link", name="Splunk prod", exact=True)).to_be_visible()
    expect(page.get_by_text("Read-only")).to_be_visible()
    for absent in ("switch", "button"):
        names = [n for n in page.get_by_role(absent).all_inner_texts() if n.strip() and n.strip() != "Sign out"]
        assert names == [], names
    expect(page.get_by_role("link", name="Add integration")).to_have_count(0)
    tab.go(f"/settings/siem/{pk}/")
    expect(page.get_by_role("heading", name="Configuration")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("test|Replay|Edit", re.I))).to_have_count(0)
    tab.go(f"/settings/siem/{pk}/edit/")
    expect(page.get_by_text("You don’t have access to this")).to_be_visible()

    # Even a hand-made request with a valid session and CSRF token is refused.
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    for path, form in ((f"/settings/siem/{pk}/enabled", {"enabled": "off"}), (f"/settings/siem/{pk}/test", {}),
                       (f"/settings/siem/{pk}/replay", {"all": "1"}), (f"/settings/siem/{pk}/delete/", {})):
        answer = page.request.post(live_server.url + path, form=form,
                                   headers={"X-CSRFToken": csrf, "Referer": live_server.url + "/settings/siem/"})
        assert answer.status == 403, path
    integration.refresh_from_db()
    assert integration.enabled and integration.status == "not_yet_invoked" and hec.received == []
    tab.assert_no_secret(HEC_TOKEN)


def test_form_follows_the_chosen_type_auth_presets_and_filters(page: Page, live_server):
    _user("alice", "SIEM admins")
    delivery.emit([{"type": "finding.new", "severity": "high", "asset": {"id": "a1", "name": "web-01", "tags": ["prod"]}},
                   {"type": "scan.completed", "severity": "info"}])
    tab = Session(page, live_server.url)
    tab.login("alice")
    tab.go("/settings/siem/new/?type=webhook")
    username = page.locator('[name="cfg-webhook-username"]')
    expect(username).to_be_hidden()
    page.locator('[name="cfg-webhook-auth"]').select_option("basic")
    expect(username).to_be_visible()
    expect(page.locator('[name="cfg-webhook-headers"]')).to_be_hidden()
    page.locator('[name="cfg-webhook-auth"]').select_option("header")
    expect(page.locator('[name="cfg-webhook-headers"]')).to_be_visible()
    expect(username).to_be_hidden()

    page.locator("label.typeopt", has_text="Elasticsearch").click()
    expect(page.locator('[name="cfg-webhook-endpoint"]')).to_be_hidden()
    expect(page.locator('[name="cfg-elastic-api_key"]')).to_be_visible()
    expect(page.locator('[name="cfg-elastic-password"]')).to_be_hidden()
    page.locator("label.segmented__opt", has_text="Username + password").click()
    expect(page.locator('[name="cfg-elastic-password"]')).to_be_visible()
    expect(page.locator('[name="cfg-elastic-api_key"]')).to_be_hidden()
    assert "type=elastic" in page.url

    retired = page.locator("label.typeopt", has_text="legacy")
    if retired.count():
        expect(retired).to_contain_text("Retired")
        retired.click()
        expect(page.locator('[data-type-fields="sentinel_legacy"] .alert--warn')).to_contain_text("retired")

    presets = page.locator('[data-prefix="cfg-syslog"]')
    if presets.count():
        page.locator("label.typeopt", has_text="Syslog").click()
        presets.filter(has_text="QRadar").click()
        expect(page.locator('[name="cfg-syslog-format"]')).to_have_value("leef")
        expect(page.locator('[name="cfg-syslog-protocol"]')).to_have_value("tcp")
        expect(page.locator('[name="cfg-syslog-client_key"]')).to_be_hidden()

    results = page.locator("[data-filter-results]")
    expect(results.locator("tr", has_text="scan.completed")).to_contain_text("Sent")
    page.locator("label.chipcheck", has_text=re.compile(r"^finding\.\*$")).click()
    expect(results.locator("tr", has_text="scan.completed")).to_contain_text("Skipped")
    expect(results.locator("tr", has_text="finding.new")).to_contain_text("Sent")
    page.get_by_label("Minimum severity").select_option("critical")
    expect(results.locator("tr", has_text="finding.new")).to_contain_text("below critical")
    expect(page.locator("[data-filter-summary]")).to_contain_text("0 of")

    # Keyboard: the type picker is a radio group reachable and operable without a mouse.
    page.locator('input[name="integration_type"]:checked').focus()
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.activeElement.name") == "integration_type"
    checked = page.locator('input[name="integration_type"]:checked').get_attribute("value")
    expect(page.locator(f'[data-type-fields="{checked}"]')).to_be_visible()
