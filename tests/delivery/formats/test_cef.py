"""CEF encoder: spec escaping, field mapping, and no field can forge another (strict parser)."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from delivery.formats import cef
from tests.receivers.rsyslog import ParseError, parse_cef

DEVICE = {"vendor": "siemhub", "product": "siemhub", "version": "1.2.3"}
BASE = {
    "id": "0b6c3a1e-8f5e-4c1a-9d7e-2f4b6a8c0d12",
    "type": "finding.new",
    "timestamp": "2024-05-31T16:08:37.123456Z",
    "severity": "high",
    "org_id": "acme",
    "asset": {"id": "a-1", "name": "web-01", "type": "host", "tags": ["prod", "dmz"]},
    "data": {"title": "SQL injection", "user": "alice", "message": "m", "extra": "x", "src_ip": "10.0.0.5"},
}


def encode(event, **device):
    return cef.encode(event, **{**DEVICE, **device})


def test_header_escaping_exactly_per_spec():
    assert cef.escape_header("a|b\\c\rd\ne=f") == "a\\|b\\\\c d e=f"


def test_extension_escaping_exactly_per_spec():
    assert cef.escape_value("a=b\\c\rd\ne|f") == "a\\=b\\\\c\\rd\\ne|f"


def test_spec_example_shape():
    line = encode(BASE)
    assert line.startswith("CEF:0|siemhub|siemhub|1.2.3|finding.new|SQL injection|8|rt=1717171717123 externalId=")
    header, ext = parse_cef(line)
    assert header == ["0", "siemhub", "siemhub", "1.2.3", "finding.new", "SQL injection", "8"]
    assert ext == {
        "rt": "1717171717123", "externalId": BASE["id"], "cat": "finding.new", "src": "10.0.0.5", "suser": "alice",
        "cs1Label": "orgId", "cs1": "acme", "cs2Label": "assetName", "cs2": "web-01", "cs3Label": "assetId",
        "cs3": "a-1", "cs4Label": "assetType", "cs4": "host", "cs5Label": "assetTags", "cs5": '["prod","dmz"]',
        "msg": "m", "cs6Label": "data", "cs6": '{"extra":"x"}',
    }  # fmt: skip


@pytest.mark.parametrize(
    ("severity", "number"), [("info", 1), ("low", 3), ("medium", 5), ("high", 8), ("critical", 10), (None, 1)]
)
def test_severity_mapping(severity, number):
    header, _ = parse_cef(encode({**BASE, "severity": severity}))
    assert header[6] == str(number)


def test_hostile_values_cannot_forge_fields_or_messages():
    event = copy.deepcopy(BASE)
    event["data"].update(user="eve cs1=evil suser=root", message="a\nCEF:0|x|y|z|w|v|10|act=forged\r\n", action="x\\=y")
    event["data"]["title"] = "t|10|act=forged"
    line = encode(event)
    assert "\n" not in line and "\r" not in line
    header, ext = parse_cef(line)
    assert header[5] == "t|10|act=forged" and header[6] == "8"
    assert ext["suser"] == "eve cs1=evil suser=root" and ext["cs1"] == "acme"
    assert ext["msg"] == "a\nCEF:0|x|y|z|w|v|10|act=forged\r\n"
    assert ext["act"] == "x\\=y"


def test_data_aliases_ip_fallback_and_ports():
    event = copy.deepcopy(BASE)
    event["data"] = {"source_ip": "gw.example.com", "dst_ip": "2001:db8::1", "src_port": "443", "dst_port": 70000,
                     "username": {"name": "not a scalar"}, "user_name": "bob", "action": True,
                     "score": 9.5}  # fmt: skip
    _, ext = parse_cef(encode(event))
    assert ext["shost"] == "gw.example.com" and "src" not in ext  # not an IP: a host name
    assert ext["dst"] == "2001:db8::1" and ext["spt"] == "443" and "dpt" not in ext
    assert ext["suser"] == "bob" and ext["act"] == "true"
    assert json.loads(ext["cs6"]) == {"dst_port": 70000, "score": 9.5, "username": {"name": "not a scalar"}}


def test_custom_string_slots_are_fixed():
    event = {**BASE, "org_id": None, "asset": {"name": "n"}}
    _, ext = parse_cef(encode(event))
    assert "cs1" not in ext and ext["cs2Label"] == "assetName" and ext["cs2"] == "n" and "cs3" not in ext


def test_envelope_copies_are_not_repeated_in_data():
    event = copy.deepcopy(BASE)
    event["data"].update(severity="high", org_id="acme", asset=BASE["asset"])
    _, ext = parse_cef(encode(event))
    assert json.loads(ext["cs6"]) == {"extra": "x"}


def test_name_falls_back_to_type():
    header, _ = parse_cef(encode({**BASE, "data": {}}))
    assert header[5] == "finding.new"


def test_keys_are_checked():
    with pytest.raises(ValueError):
        cef.check_key("bad key")
    with pytest.raises(ValueError):
        cef.check_key("a=b")


def test_strict_parser_rejects_unescaped_equals_and_bad_escapes():
    for bad in (
        "CEF:0|a|b|c|d|e|1|msg=a=b",
        "CEF:0|a|b|c|d|e|1|msg=a\\tb",
        "CEF:0|a\\x|b|c|d|e|1|",
        "CEF:0|a|b|c|d|e|1|m=1\n",
    ):
        with pytest.raises(ParseError):
            parse_cef(bad)


# -- property: any string in any field round-trips and changes no other field ---------------


def _header_norm(value: str) -> str:
    return value.replace("\r", " ").replace("\n", " ")


def _with(field: str, value: str) -> tuple[dict, dict]:
    event, device = copy.deepcopy(BASE), dict(DEVICE)
    if field in device:
        device[field] = value
    elif field in ("id", "type", "org_id"):
        event[field] = value
    elif field == "asset.name":
        event["asset"]["name"] = value
    elif field == "data.key":
        event["data"][value] = "v"
    else:
        event["data"][field.removeprefix("data.")] = value
    return event, device


# field → where it shows up: ("h", index) header, ("e", key) extension, ("j", key) inside cs6 JSON
SLOTS = {
    "vendor": [("h", 1)], "product": [("h", 2)], "version": [("h", 3)],
    "type": [("h", 4), ("e", "cat")], "data.title": [("h", 5)], "id": [("e", "externalId")],
    "data.user": [("e", "suser")], "data.message": [("e", "msg")], "org_id": [("e", "cs1")],
    "asset.name": [("e", "cs2")], "data.extra": [("j", "extra")], "data.key": [("k", None)],
}  # fmt: skip
ALIASES = {a for _, aliases, _ in cef.DATA_ALIASES for a in aliases} | set(cef.NAME_KEYS) | set(BASE["data"])


@pytest.mark.parametrize("field", sorted(SLOTS))
@settings(max_examples=150, deadline=None)
@given(value=st.text(min_size=1))
def test_any_string_round_trips_without_touching_other_fields(field, value):
    if field == "data.key" and value in ALIASES | {"severity", "org_id", "asset"}:
        return
    baseline = parse_cef(_encode_with(field, "PLACEHOLDER"))
    header, ext = parse_cef(_encode_with(field, value))
    expected_header, expected_ext = list(baseline[0]), dict(baseline[1])
    for kind, where in SLOTS[field]:
        if kind == "h":
            expected_header[where] = _header_norm(value)[: cef.NAME_MAX if where == 5 else None]
            if where == 5 and (len(value) > cef.NAME_MAX or {"\r", "\n"} & set(value)):
                expected_ext["cs6"] = cef.as_text({**json.loads(baseline[1]["cs6"]), "title": value})
        elif kind == "e":
            expected_ext[where] = value
        elif kind == "j":
            expected_ext["cs6"] = cef.as_text({**json.loads(baseline[1]["cs6"]), where: value})
        else:
            data = json.loads(baseline[1]["cs6"])
            data.pop("PLACEHOLDER")
            expected_ext["cs6"] = cef.as_text({**data, value: "v"})
    assert header == expected_header
    assert ext == expected_ext


def _encode_with(field: str, value: str) -> str:
    event, device = _with(field, value)
    return encode(event, **device)


@settings(max_examples=150, deadline=None)
@given(vendor=st.text(), product=st.text(), version=st.text())
def test_device_fields_round_trip_in_the_header(vendor, product, version):
    header, ext = parse_cef(cef.encode(BASE, vendor=vendor, product=product, version=version))
    assert header[1:4] == [_header_norm(vendor), _header_norm(product), _header_norm(version)]
    assert ext == parse_cef(encode(BASE))[1]
