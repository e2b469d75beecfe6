"""LEEF 2.0 encoder: header, delimiter, escaping that no parser can split, attribute mapping."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from delivery.formats import leef
from tests.receivers.rsyslog import ParseError, parse_leef

DEVICE = {"vendor": "siemhub", "product": "siemhub", "version": "1.2.3"}
BASE = {
    "id": "0b6c3a1e-8f5e-4c1a-9d7e-2f4b6a8c0d12",
    "type": "auth.login.failed",
    "timestamp": "2024-05-31T16:08:37.123456Z",
    "severity": "medium",
    "org_id": "acme",
    "asset": {"id": "a-1", "name": "vpn-01", "type": "host", "tags": ["prod"]},
    "data": {"user": "alice", "src_ip": "10.0.0.5", "dst_port": 443, "message": "bad password", "attempts": 3},
}


def test_header_and_attributes():
    line = leef.encode(BASE, **DEVICE)
    assert line.startswith("LEEF:2.0|siemhub|siemhub|1.2.3|auth.login.failed|^|devTime=2024-05-31T16:08:37.123+0000^")
    header, attrs = parse_leef(line)
    assert header == ["2.0", "siemhub", "siemhub", "1.2.3", "auth.login.failed", "^"]
    assert attrs == {
        "devTime": "2024-05-31T16:08:37.123+0000", "devTimeFormat": "yyyy-MM-dd'T'HH:mm:ss.SSSZ", "sev": "5",
        "cat": "auth.login.failed", "externalId": BASE["id"], "src": "10.0.0.5", "dstPort": "443",
        "usrName": "alice", "orgId": "acme", "assetName": "vpn-01", "assetId": "a-1", "assetType": "host",
        "assetTags": '["prod"]', "msg": "bad password", "data": '{"attempts":3}',
    }  # fmt: skip


def test_tab_delimiter_is_written_x09():
    line = leef.encode(BASE, **DEVICE, delimiter="\t")
    assert "|x09|devTime=" in line and "\tdevTimeFormat=" in line
    assert parse_leef(line)[1] == parse_leef(leef.encode(BASE, **DEVICE))[1]


@pytest.mark.parametrize("bad", ["|", "=", "\\", "a", "ab", ""])
def test_unusable_delimiters_are_refused(bad):
    with pytest.raises(ValueError):
        leef.delimiter_field(bad)


def test_escaping_never_leaves_a_delimiter_newline_or_tab_in_a_value():
    assert leef.escape_value("a^b\tc\rd\ne\\f\x00g=h|i€", "^") == "a\\x5eb\\tc\\rd\\ne\\\\f\\x00g=h|i€"
    assert leef.escape_value("a^b\tc", "\t") == "a^b\\tc"


def test_hostile_values_cannot_forge_attributes():
    event = copy.deepcopy(BASE)
    event["data"]["user"] = "eve^usrName=root\tsev=10\nLEEF:2.0|x|y|z|w|^|sev=10"
    event["type"] = "t|x^y\nz"
    line = leef.encode(event, **DEVICE)
    assert "\n" not in line and "\t" not in line
    header, attrs = parse_leef(line)
    assert header[4] == "t_x_y_z" and attrs["cat"] == "t|x^y\nz"
    assert attrs["usrName"] == event["data"]["user"] and attrs["sev"] == "5"
    # A parser that knows nothing of the escapes still sees the same attributes.
    naive = dict(item.split("=", 1) for item in line.split("|", 6)[6].split("^"))
    assert set(naive) == set(attrs) and naive["sev"] == "5"


def test_title_stays_in_data_since_leef_has_no_name_field():
    event = {**BASE, "data": {"title": "T"}}
    assert json.loads(parse_leef(leef.encode(event, **DEVICE))[1]["data"]) == {"title": "T"}


def test_strict_parser_rejects_bad_escapes():
    with pytest.raises(ParseError):
        parse_leef("LEEF:2.0|a|b|c|d|^|k=a\\qb")


SLOTS = {
    "type": ("cat", None), "id": ("externalId", None), "data.user": ("usrName", None),
    "data.message": ("msg", None), "org_id": ("orgId", None), "asset.name": ("assetName", None),
    "data.extra": ("data", "extra"),
}  # fmt: skip


def _with(field: str, value: str) -> dict:
    event = copy.deepcopy(BASE)
    if field in ("id", "type", "org_id"):
        event[field] = value
    elif field == "asset.name":
        event["asset"]["name"] = value
    else:
        event["data"][field.removeprefix("data.")] = value
    return event


@pytest.mark.parametrize("delimiter", ["^", "\t"])
@pytest.mark.parametrize("field", sorted(SLOTS))
@settings(max_examples=100, deadline=None)
@given(value=st.text(min_size=1))
def test_any_string_round_trips_without_touching_other_attributes(field, delimiter, value):
    base_header, expected = parse_leef(leef.encode(_with(field, "PLACEHOLDER"), **DEVICE, delimiter=delimiter))
    header, attrs = parse_leef(leef.encode(_with(field, value), **DEVICE, delimiter=delimiter))
    key, inner = SLOTS[field]
    if inner:
        expected[key] = leef.as_text({**json.loads(expected[key]), inner: value})
    else:
        expected[key] = value
    if field == "type":
        base_header[4] = leef.header_field(value, delimiter)
    assert attrs == expected and header == base_header


@settings(max_examples=150, deadline=None)
@given(vendor=st.text(), product=st.text(), version=st.text())
def test_header_fields_cannot_shift(vendor, product, version):
    header, attrs = parse_leef(leef.encode(BASE, vendor=vendor, product=product, version=version))
    assert header[1:4] == [leef.header_field(v, "^") for v in (vendor, product, version)]
    assert header[4:] == ["auth.login.failed", "^"] and attrs == parse_leef(leef.encode(BASE, **DEVICE))[1]
