"""OCSF 1.1.0 encoder: every mapped type checked against the schema files by tests/ocsf_check.py."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from delivery.formats import jsonenc
from delivery.formats.ocsf import (
    CLASSES,
    COMMON_ACTIVITIES,
    FINDING_STATUSES,
    OCSF_VERSION,
    SEVERITY_CAPTIONS,
    STATUSES,
    to_ocsf,
)
from delivery.formats.schema import render
from tests.ocsf_check import SCHEMA_DIR, Schema, assert_valid, problems, schema

EVENT_ID = "0b6c3a1e-8f5e-4c1a-9d7e-2f4b6a8c0d12"
TS = "2024-05-31T16:08:37.123000Z"
TS_MS = 1717171717123
ASSET = {"id": "a-17", "name": "web-1", "type": "host", "tags": ["prod", "dmz"]}


def ev(type_: str, data: Any = None, **over: Any) -> dict[str, Any]:
    event = {"id": EVENT_ID, "type": type_, "timestamp": TS, "severity": "medium", "org_id": "acme",
             "asset": None, "data": {} if data is None else data}
    event.update(over)
    return event


# type, data, class_uid, activity_id, status_id (None = not set)
CASES: list[tuple[str, dict[str, Any], int, int, int | None]] = [
    ("finding.new", {"finding_id": "F-1", "title": "SQL injection", "cvss": 9.1}, 2004, 1, 1),
    ("finding.updated", {"finding_id": "F-1", "status": "in_progress"}, 2004, 2, 2),
    ("finding.resolved", {"id": "F-1", "name": "SQL injection"}, 2004, 3, 4),
    ("transaction.created", {"subject": "alice@example.com", "transaction_id": "T-9"}, 3002, 1, 0),
    ("transaction.verified", {"subject": "alice@example.com"}, 3002, 1, 1),
    ("transaction.denied", {"subject": "alice", "reason": "user rejected push"}, 3002, 1, 2),
    ("transaction.expired", {"user": {"id": "u-1", "email": "bob@example.com"}}, 3002, 1, 2),
    ("auth.login.succeeded", {"username": "admin", "ip": "192.0.2.10"}, 3002, 1, 1),
    ("auth.login.failed", {"username": "admin", "ip": "2001:db8::1"}, 3002, 1, 2),
    ("siem.integration.created", {"actor": "alice", "target_id": 3, "target_name": "Splunk prod"}, 3004, 1, 1),
    ("siem.integration.updated", {"actor": "alice", "target_id": 3, "changes": {"token": "[REDACTED]"}}, 3004, 3, 1),
    ("siem.integration.deleted", {"actor": {"id": 7, "username": "alice"}, "target_id": 3}, 3004, 4, 1),
    ("siem.integration.tested", {"actor": "alice", "target_id": 3, "ok": False, "error": "HTTP 401"}, 6003, 99, 2),
    ("siem.dead_letter.replayed", {"actor": "alice", "ip": "198.51.100.7", "count": 12}, 6003, 99, 1),
    ("siem.api_key.created", {"actor": "alice", "target_name": "ci", "prefix": "sk_ab12"}, 3004, 1, 1),
    ("scan.completed", {"scan_id": "S-1", "findings": 4}, 0, 99, None),
    ("totally.unknown.type", {"x": 1}, 0, 99, None),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize(("type_", "data", "class_uid", "activity_id", "status_id"), CASES, ids=IDS)
def test_each_type_maps_to_its_class_and_is_valid(type_, data, class_uid, activity_id, status_id):
    out = to_ocsf(ev(type_, data, asset=ASSET))
    assert_valid(out)
    assert (out["class_uid"], out["activity_id"]) == (class_uid, activity_id)
    assert out["type_uid"] == class_uid * 100 + activity_id
    assert out.get("status_id") == status_id
    assert out["metadata"]["uid"] == EVENT_ID  # receivers deduplicate on it
    assert out["metadata"]["event_code"] == type_


@pytest.mark.parametrize(("type_", "data", "class_uid", "activity_id", "status_id"), CASES, ids=IDS)
def test_captions_are_the_schema_enum_labels(type_, data, class_uid, activity_id, status_id):
    out = to_ocsf(ev(type_, data))
    s = schema()
    cls = s.concrete_classes()[out["class_uid"]]
    activity = s.attribute(cls, "activity_id")["enum"][str(out["activity_id"])]["caption"]
    assert out["activity_name"] == activity
    assert out["class_name"] == cls["caption"]
    assert out["type_name"] == f"{cls['caption']}: {activity}"
    category = s.categories.get(cls["category"], {}).get("caption", "Uncategorized")
    assert out["category_name"] == category
    assert out["category_uid"] * 1000 + cls.get("uid", 0) == out["class_uid"]
    if "status_id" in out:
        assert out["status"] == s.attribute(cls, "status_id")["enum"][str(out["status_id"])]["caption"]


@pytest.mark.parametrize("severity", ["info", "low", "medium", "high", "critical"])
@pytest.mark.parametrize("type_", ["finding.new", "auth.login.failed", "siem.integration.updated", "scan.completed"])
def test_every_severity(severity, type_):
    out = to_ocsf(ev(type_, {"title": "t"}, severity=severity))
    assert out["severity_id"] == {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}[severity]
    labels = schema().dictionary["severity_id"]["enum"]
    assert out["severity"] == labels[str(out["severity_id"])]["caption"]
    assert_valid(out)


def test_missing_or_unknown_severity():
    assert to_ocsf(ev("finding.new", severity=None))["severity_id"] == 1  # the canonical default, info
    assert to_ocsf(ev("finding.new", severity="HIGH"))["severity_id"] == 4
    out = to_ocsf(ev("finding.new", severity="apocalyptic"))
    assert (out["severity_id"], out["severity"]) == (0, "Unknown")
    assert out["unmapped"]["severity"] == "apocalyptic"
    assert_valid(out)


@pytest.mark.parametrize("timestamp", [TS, "2024-05-31T16:08:37.123Z", "2024-05-31T18:08:37.123456+02:00"])
def test_time_is_epoch_milliseconds(timestamp):
    out = to_ocsf(ev("finding.new", timestamp=timestamp))
    assert out["time"] == TS_MS
    assert isinstance(out["time"], int)
    assert out["timezone_offset"] == 0
    assert out["metadata"]["original_time"] == timestamp


def test_metadata():
    out = to_ocsf(ev("finding.new"))
    meta = out["metadata"]
    assert meta["version"] == schema().version == "1.1.0"
    assert meta["product"]["vendor_name"] == meta["product"]["name"] == "siemhub"
    assert meta["product"]["version"]
    assert meta["tenant_uid"] == "acme"
    assert "tenant_uid" not in to_ocsf(ev("finding.new", org_id=None))["metadata"]


HOSTILE = 'Ünïcødé 🚨 "quoted" \'single\' \\ back\nnew\r\nline\ttab </script> \u202e\u0000 ${jndi:x}'


@pytest.mark.parametrize("type_", IDS)
def test_hostile_strings_are_preserved(type_):
    data = {"title": HOSTILE, "name": HOSTILE, "message": HOSTILE, "username": HOSTILE, "actor": HOSTILE,
            "target_name": HOSTILE, "ip": HOSTILE, HOSTILE: HOSTILE}
    event = ev(type_, data, asset={"id": HOSTILE, "name": HOSTILE, "type": "host", "tags": [HOSTILE]},
               org_id=HOSTILE)
    out = to_ocsf(event)
    assert_valid(out)
    assert out["message"] == HOSTILE
    assert out["metadata"]["tenant_uid"] == HOSTILE
    assert jsonenc.loads(jsonenc.dumps(out)) == out  # the wire encoder round-trips it exactly
    if out["class_uid"] == 2004:
        assert out["finding_info"]["title"] == HOSTILE
    if out["class_uid"] == 3002:
        assert out["user"]["name"] == HOSTILE
        assert "src_endpoint" not in out  # not an IP address: left in unmapped, not forced into ip
        assert out["unmapped"]["data"]["ip"] == HOSTILE
    if out["class_uid"] in (3004, 6003):
        assert out["actor"]["user"]["name"] == HOSTILE
    assert out["unmapped"]["data"][HOSTILE] == HOSTILE  # an unknown key survives in unmapped


@pytest.mark.parametrize("type_", IDS)
@pytest.mark.parametrize("missing", ["asset", "data", "org_id", "all"])
def test_missing_optional_fields_still_valid(type_, missing):
    event = ev(type_, {"title": "t"}, asset=ASSET)
    for key in ("asset", "data", "org_id") if missing == "all" else (missing,):
        event[key] = None
    assert_valid(to_ocsf(event))
    del event["asset"], event["data"], event["org_id"]
    assert_valid(to_ocsf(event))


def test_authentication_user_fallbacks():
    assert to_ocsf(ev("auth.login.failed"))["user"] == {"name": "unknown"}
    assert to_ocsf(ev("auth.login.failed", {"user": "alice"}))["user"] == {"name": "alice"}
    assert to_ocsf(ev("auth.login.failed", {"email": "a@example.com"}))["user"] == {
        "name": "a@example.com", "email_addr": "a@example.com"}
    assert to_ocsf(ev("transaction.expired", {"user": {"id": "u-1"}}))["user"] == {"uid": "u-1"}
    # A non-address never lands in email_addr (email_t has a pattern).
    out = to_ocsf(ev("auth.login.failed", {"username": "bob", "email": "not-an-address"}))
    assert out["user"] == {"name": "bob"} and out["unmapped"]["data"]["email"] == "not-an-address"
    assert "email_addr" not in to_ocsf(ev("auth.login.failed", {"email": "a@example.com\n"}))["user"]


def test_authentication_service_or_dst_endpoint():
    out = to_ocsf(ev("auth.login.succeeded", {"username": "a"}, asset=ASSET))
    assert out["dst_endpoint"] == {"uid": "a-17", "name": "web-1"} and "service" not in out
    assert out["unmapped"]["asset"] == ASSET  # type and tags have no place in an endpoint
    assert to_ocsf(ev("auth.login.succeeded", {"service": "vpn"}))["service"] == {"name": "vpn"}
    assert to_ocsf(ev("auth.login.succeeded"))["service"] == {"name": "unknown"}


def test_authentication_status_from_type_then_data():
    assert to_ocsf(ev("auth.login", {"status": "failed"}))["status_id"] == 2
    assert to_ocsf(ev("auth.mfa", {"success": True}))["status_id"] == 1
    assert to_ocsf(ev("transaction.created", {"status": "pending"}))["status"] == "Unknown"
    out = to_ocsf(ev("transaction.denied", {"status": "approved"}))  # the type wins
    assert out["status_id"] == 2 and out["unmapped"]["data"] == {"status": "approved"}
    out = to_ocsf(ev("auth.logout.succeeded", {"username": "a"}))
    assert (out["activity_id"], out["activity_name"], out["type_uid"]) == (2, "Logoff", 300202)


def test_finding_info_and_resources():
    out = to_ocsf(ev("finding.new", {"finding_id": 42, "title": "XSS", "description": "d", "category": "web",
                                     "url": "https://x.example/f/42", "cvss": 6.1}, asset=ASSET))
    assert out["finding_info"] == {"uid": "42", "title": "XSS", "desc": "d", "types": ["web"],
                                   "src_url": "https://x.example/f/42"}
    assert out["resources"] == [{"uid": "a-17", "name": "web-1", "type": "host", "labels": ["prod", "dmz"]}]
    assert out["unmapped"] == {"data": {"cvss": 6.1}}  # the asset is fully mapped: not repeated
    generated = to_ocsf(ev("finding.updated"))["finding_info"]
    assert generated == {"uid": EVENT_ID, "title": f"Finding {EVENT_ID} updated"}


def test_data_that_looks_like_a_finding():
    out = to_ocsf(ev("alert.raised", {"finding": {"id": "F-9", "title": "Beacon", "status": "new"}}))
    assert out["class_uid"] == 2004 and out["finding_info"]["uid"] == "F-9" and out["status"] == "New"
    assert out["activity_id"] == 99 and out["unmapped"]["data"]["finding"]["title"] == "Beacon"
    assert to_ocsf(ev("alert.raised", {"finding_id": "F-9", "title": "Beacon"}))["class_uid"] == 2004
    # A mere reference to a finding is not a finding.
    assert to_ocsf(ev("action.completed", {"finding_id": "F-9", "action": "ticket"}))["class_uid"] == 0


def test_audit_entity_management():
    out = to_ocsf(ev("siem.api_key.created", {"actor": "alice", "actor_id": 7, "target_name": "ci",
                                              "prefix": "sk_ab12", "ip": "192.0.2.1"}))
    assert out["entity"] == {"uid": "sk_ab12", "name": "ci", "type": "api_key"}
    assert out["actor"] == {"user": {"name": "alice", "uid": "7"}}
    assert out["metadata"]["profiles"] == ["host"]  # actor is a host-profile attribute in 3004
    assert out["unmapped"]["data"] == {"ip": "192.0.2.1"}  # 3004 has no src_endpoint
    bare = to_ocsf(ev("siem.integration.deleted"))
    assert bare["entity"] == {"name": "integration", "type": "integration"}
    assert bare["actor"] == {"user": {"name": "system"}}
    assert_valid(bare)


def test_audit_api_activity():
    out = to_ocsf(ev("siem.dead_letter.replayed", {"actor": "alice", "ip": "198.51.100.7", "count": 12,
                                                   "request_id": "r-1"}))
    assert out["api"] == {"operation": "siem.dead_letter.replayed", "service": {"name": "siemhub"},
                          "request": {"uid": "r-1"}}
    assert out["src_endpoint"] == {"ip": "198.51.100.7"} and "resources" not in out
    tested = to_ocsf(ev("siem.integration.tested", {"target_id": 3, "ok": False, "error": "HTTP 401"}))
    assert (tested["status"], tested["status_detail"]) == ("Failure", "HTTP 401")
    assert tested["src_endpoint"] == {"name": "unknown"}
    assert tested["resources"] == [{"uid": "3", "type": "integration"}]


def test_unmapped_keeps_what_did_not_map():
    base = ev("scan.completed", {"scan_id": "S-1"}, asset=ASSET, extra_field=[1, 2])
    assert to_ocsf(base)["unmapped"] == base  # Base Event: the whole original
    out = to_ocsf(ev("siem.integration.updated", {"actor": "alice", "target_id": 3, "changes": {"a": [1]}},
                     extra_field="x"))
    assert out["unmapped"] == {"extra_field": "x", "data": {"changes": {"a": [1]}}}
    assert to_ocsf(ev("finding.new", ["not", "an", "object"]))["unmapped"]["data"] == ["not", "an", "object"]


@pytest.mark.parametrize("type_", IDS)
def test_deterministic_and_input_untouched(type_):
    event = ev(type_, {"title": "t", "nested": {"a": [1, {"b": 2}]}, "user": {"id": "u"}}, asset=ASSET)
    before = copy.deepcopy(event)
    first, second = to_ocsf(event), to_ocsf(event)
    assert first == second
    assert jsonenc.dumps(first) == jsonenc.dumps(second)
    assert event == before
    # The output shares nothing with the input: emptying every container of it leaves the input as is.
    for value in _walk(first):
        if isinstance(value, dict | list):
            value.clear()
    assert event == before


def _walk(value: Any):
    if isinstance(value, dict):
        for v in list(value.values()):
            yield from _walk(v)
    elif isinstance(value, list):
        for v in list(value):
            yield from _walk(v)
    yield value


def test_encoder_tables_agree_with_the_schema():
    # Covers the table entries no example above happens to emit (Read, Unknown severity ...).
    s = schema()
    classes = s.concrete_classes()
    for table in CLASSES.values():
        cls = classes[table.uid]
        assert table.caption == cls["caption"]
        assert table.category_uid == s.category_uid(cls)
        assert table.category == s.categories.get(cls["category"], {}).get(
            "caption", s.attribute(cls, "category_uid")["enum"]["0"]["caption"])
        enum = s.attribute(cls, "activity_id")["enum"]
        for activity_id, caption in {**COMMON_ACTIVITIES, **table.activities}.items():
            assert enum[str(activity_id)]["caption"] == caption
    severities = s.dictionary["severity_id"]["enum"]
    assert all(severities[str(k)]["caption"] == v for k, v in SEVERITY_CAPTIONS.items())
    statuses = s.dictionary["status_id"]["enum"]
    assert all(statuses[str(k)]["caption"] == v for k, v in STATUSES.items())
    finding_statuses = s.attribute(classes[2004], "status_id")["enum"]
    assert all(finding_statuses[str(k)]["caption"] == v for k, v in FINDING_STATUSES.items())
    assert OCSF_VERSION == s.version


def test_render_uses_this_encoder():
    event = ev("finding.new", {"title": "t"})
    assert render(event, "ocsf") == to_ocsf(event)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=8)
KEYS = st.sampled_from(["title", "name", "finding_id", "id", "user", "username", "subject", "email", "actor",
                        "target", "target_id", "status", "ok", "ip", "service", "message", "finding", "category"])


@settings(max_examples=150, deadline=None)
@given(type_=st.sampled_from([*IDS, "auth.logout", "alert.raised"]) | st.text(max_size=20),
       data=st.none() | st.dictionaries(KEYS | st.text(max_size=6), JSON, max_size=6),
       severity=st.sampled_from(["info", "low", "medium", "high", "critical", "", None, "bogus"]),
       asset=st.none() | st.fixed_dictionaries({"id": st.text(max_size=5), "name": st.text(max_size=5),
                                                "type": st.text(max_size=5), "tags": st.lists(st.text(), max_size=2)}))
def test_any_event_is_valid(type_, data, severity, asset):
    event = ev(type_, severity=severity, asset=asset)
    event["data"] = data
    before = copy.deepcopy(event)
    out = to_ocsf(event)
    assert_valid(out)
    assert event == before and to_ocsf(event) == out


# -- the checker itself must catch what is wrong ---------------------------------------------------


def _broken(type_: str, data: dict[str, Any], *path: str) -> list[str]:
    out = to_ocsf(ev(type_, data))
    target = out
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return problems(out)


@pytest.mark.parametrize(("type_", "path", "needle"), [
    ("finding.new", ("finding_info",), "finding_info: required"),
    ("finding.new", ("finding_info", "title"), "finding_info.title: required"),
    ("finding.new", ("time",), "time: required"),
    ("scan.completed", ("metadata",), "metadata: required"),
    ("scan.completed", ("metadata", "product", "vendor_name"), "metadata.product.vendor_name: required"),
    ("scan.completed", ("severity_id",), "severity_id: required"),
    ("auth.login.failed", ("user",), "user: required"),
    ("auth.login.failed", ("service",), "at least one of ['service', 'dst_endpoint']"),
    ("auth.login.failed", ("user", "name"), "user needs at least one of"),
    ("siem.integration.updated", ("entity",), "entity: required"),
    ("siem.integration.updated", ("metadata", "profiles"), "actor: belongs to profile 'host'"),
    ("siem.integration.tested", ("api", "operation"), "api.operation: required"),
    ("siem.integration.tested", ("src_endpoint",), "src_endpoint: required"),
    ("siem.integration.tested", ("actor", "user"), "actor needs at least one of"),
])
def test_checker_flags_missing_required(type_, path, needle):
    found = _broken(type_, {"target_id": 1}, *path)
    assert any(needle in p for p in found), found


@pytest.mark.parametrize(("key", "value", "needle"), [
    ("type_uid", 200402, "type_uid: 200402, expected 200401"),
    ("class_uid", 2001, "not a class"),
    ("activity_name", "Created", "activity_name: 'Created'"),
    ("type_name", "Detection Finding: Created", "type_name"),
    ("category_name", "Finding", "category_name"),
    ("severity", "Informational", "the caption of severity_id 3 is 'Medium'"),
    ("severity_id", 7, "severity_id: 7 is not one of"),
    ("status_id", 5, "status_id: 5 is not one of"),
    ("time", "2024-05-31T16:08:37Z", "is not a timestamp_t"),
    ("message", ["x"], "is not a string_t"),
    ("colour", "red", "colour: not an attribute of detection_finding"),
    ("resources", {"uid": "x"}, "resources: expected an array"),
    ("message", None, "message: null"),
])
def test_checker_flags_wrong_values(key, value, needle):
    out = to_ocsf(ev("finding.new", {"title": "t"}))
    out[key] = value
    found = problems(out)
    assert any(needle in p for p in found), found


def test_checker_applies_profiles_only_when_declared():
    out = to_ocsf(ev("finding.new", {"title": "t"}))
    out["metadata"]["profiles"] = ["security_control"]
    assert any("action_id: required by detection_finding (profile security_control)" in p for p in problems(out))
    out["action_id"], out["action"] = 2, "Denied"
    assert problems(out) == []
    out["metadata"]["profiles"] = ["container"]
    assert any("'container' is not a profile of detection_finding" in p for p in problems(out))
    out = to_ocsf(ev("scan.completed"))
    out["cloud"] = {"provider": "aws"}
    assert any("cloud: belongs to profile 'cloud'" in p for p in problems(out))


def test_checker_reads_requirements_from_the_files(tmp_path: Path):
    # Make a copy where finding_info.desc is required and Authentication has a just_one constraint:
    # the same outputs must now fail, which a hard-coded list could not notice.
    root = tmp_path / "schema"
    shutil.copytree(SCHEMA_DIR, root)
    doc = json.loads((root / "objects/finding_info.json").read_text())
    doc["attributes"]["desc"]["requirement"] = "required"
    (root / "objects/finding_info.json").write_text(json.dumps(doc))
    doc = json.loads((root / "events/iam/authentication.json").read_text())
    doc["constraints"]["just_one"] = ["service", "src_endpoint"]
    (root / "events/iam/authentication.json").write_text(json.dumps(doc))
    doctored = Schema(root)
    finding = to_ocsf(ev("finding.new", {"title": "t"}))
    assert "finding_info.desc: required by finding_info but missing" in doctored.check(finding)
    auth = to_ocsf(ev("auth.login.failed", {"ip": "192.0.2.1"}))
    assert any("exactly one of ['service', 'src_endpoint']" in p for p in doctored.check(auth))
    assert schema().check(finding) == [] and schema().check(auth) == []


def test_checker_resolution_matches_the_published_schema():
    s = schema()
    required = {
        name: {a for a, d in s.resolve("class", name)["attributes"].items()
               if d.get("requirement") == "required" and d.get("profile") is None}
        for name in ("base_event", "detection_finding", "authentication", "entity_management", "api_activity")
    }
    base = {"activity_id", "category_uid", "class_uid", "type_uid", "time", "metadata", "severity_id"}
    assert required["base_event"] == base  # WIRE-FORMATS.md §10
    assert required["detection_finding"] == base | {"finding_info"}
    assert required["authentication"] == base | {"user"}
    assert required["entity_management"] == base | {"entity"}
    assert required["api_activity"] == base | {"api", "actor", "src_endpoint"}
    assert set(s.concrete_classes()) == {0, 2004, 3002, 3004, 6003}
    # Includes merge under the class, extends under the child, the dictionary under both:
    status = s.attribute(s.resolve("class", "detection_finding"), "status_id")["enum"]
    assert {k: v["caption"] for k, v in status.items()} == {
        "0": "Unknown", "1": "New", "2": "In Progress", "3": "Suppressed", "4": "Resolved", "99": "Other"}
    assert s.resolve("class", "authentication")["attributes"]["actor"]["profile"] is None
    assert s.resolve("class", "entity_management")["attributes"]["actor"]["profile"] == "host"
    assert s.resolve("object", "user")["constraints"] == {"at_least_one": ["account", "name", "uid"]}
    assert s.resolve("object", "service")["constraints"] == {"at_least_one": ["name", "uid"]}  # from _entity


def test_schema_copy_is_the_official_one():
    assert "Apache License" in (SCHEMA_DIR / "LICENSE").read_text()
    assert "8ea34523a316c4bad7e360e870a23a8e5cb29bd5" in (SCHEMA_DIR / "SOURCE.txt").read_text()
    shared = Path(__file__).resolve().parents[4] / "shared" / "ocsf-schema-1.1.0"
    if not shared.is_dir():
        pytest.skip("../shared is not available (a clean checkout)")
    for path in SCHEMA_DIR.rglob("*"):
        if path.is_file():
            assert path.read_bytes() == (shared / path.relative_to(SCHEMA_DIR)).read_bytes(), path
