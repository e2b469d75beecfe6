"""ArcSight Common Event Format (CEF) version 0, from a canonical event.

Spec: *Implementing ArcSight Common Event Format (CEF)* (Micro Focus / OpenText), quoted in
WIRE-FORMATS.md §7; the same rules are implemented by logstash-codec-cef
(https://github.com/logstash-plugins/logstash-codec-cef).

``CEF:0|Device Vendor|Device Product|Device Version|Device Event Class ID|Name|Severity|Extension``

Escaping, exactly as the spec says (and CR/LF, which several encoders forget):
- header fields: ``\\`` → ``\\\\``, ``|`` → ``\\|``; CR and LF become a space (a header is one line);
- extension values: ``\\`` → ``\\\\``, ``=`` → ``\\=``, CR → ``\\r``, LF → ``\\n`` (literal two chars);
- extension keys are our own constants, checked against ``[A-Za-z0-9]+``: no event data ever
  becomes a key, so no value can forge a field and no newline can start another message.

Mapping (the canonical event, DESIGN.md §3):
- Device Event Class ID = event type; Name = ``data.title`` / ``summary`` / ``message`` /
  ``description``, else the type, cut to 512 characters (a title that is cut or has line breaks
  also stays in ``cs6``, exactly);
  Severity from :data:`SEVERITY_0_10`.
- ``rt`` = timestamp in epoch ms, ``externalId`` = event id (receivers deduplicate on it),
  ``cat`` = event type; well-known ``data`` keys (:data:`DATA_ALIASES`) → ``src``, ``dst``,
  ``spt``, ``dpt``, ``shost``, ``dhost``, ``suser``, ``duser``, ``suid``, ``duid``, ``act``,
  ``outcome``, ``reason``, ``request``, ``requestMethod``, ``proto``, ``app``, ``fname``,
  ``filePath``, ``fileHash``, ``msg``; the first alias present wins.
- ``cs1`` orgId, ``cs2`` assetName, ``cs3`` assetId, ``cs4`` assetType, ``cs5`` assetTags (JSON
  array), each with its ``csNLabel``; every other ``data`` key goes, as compact JSON with sorted
  keys, into ``cs6`` labelled ``data``. ``msg`` and ``cs6`` come last, so a UDP truncation cuts
  them and not the identifying fields.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from delivery.formats.jsonenc import dumps_str
from delivery.formats.timefmt import epoch_ms

# Event severity → CEF 0-10, inside the bands ArcSight uses (0-3 Low, 4-6 Medium, 7-8 High,
# 9-10 Very-High). info is 1, not 0: 0 reads as "unknown" in some consoles. LEEF ``sev`` (1-10)
# uses the same numbers.
SEVERITY_0_10: dict[str, int] = {"info": 1, "low": 3, "medium": 5, "high": 8, "critical": 10}

# CEF key → aliases looked up in ``data`` (first present wins), and how the value is checked.
DATA_ALIASES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("src", ("src_ip", "source_ip", "src", "source_address", "client_ip", "remote_ip", "remote_addr", "ip"), "ip"),
    ("dst", ("dst_ip", "dest_ip", "destination_ip", "dst", "destination_address", "server_ip"), "ip"),
    ("spt", ("src_port", "source_port", "sport"), "port"),
    ("dpt", ("dst_port", "dest_port", "destination_port", "dport"), "port"),
    ("shost", ("src_host", "source_host", "src_hostname", "source_hostname", "client_host"), "text"),
    ("dhost", ("dst_host", "dest_host", "destination_host", "dst_hostname", "destination_hostname"), "text"),
    ("suser", ("user", "username", "user_name", "src_user", "source_user", "actor", "subject"), "text"),
    ("duser", ("dst_user", "dest_user", "target_user", "destination_user"), "text"),
    ("suid", ("user_id", "uid", "src_user_id", "source_user_id"), "text"),
    ("duid", ("target_user_id", "dst_user_id", "destination_user_id"), "text"),
    ("act", ("action",), "text"),
    ("outcome", ("outcome", "result"), "text"),
    ("reason", ("reason",), "text"),
    ("request", ("url", "request_url", "uri"), "text"),
    ("requestMethod", ("http_method", "request_method"), "text"),
    ("proto", ("protocol", "proto", "transport"), "text"),
    ("app", ("app_protocol", "application_protocol"), "text"),
    ("fname", ("file", "filename", "file_name"), "text"),
    ("filePath", ("file_path", "path"), "text"),
    ("fileHash", ("file_hash", "hash", "sha256"), "text"),
    ("msg", ("message", "msg", "description"), "text"),
)
NAME_KEYS = ("title", "summary")
NAME_MAX = 512  # a Name is a short description; the full text stays in msg or cs6
CUSTOM_LABELS = ("orgId", "assetName", "assetId", "assetType", "assetTags")  # cs1..cs5
# Where a non-IP value of src/dst goes instead (a host name given as "source_ip").
_HOST_FALLBACK = {"src": "shost", "dst": "dhost"}
_KEY = re.compile(r"^[A-Za-z0-9]+$")


def escape_header(value: str) -> str:
    return value.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def escape_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("=", "\\=").replace("\r", "\\r").replace("\n", "\\n")


def check_key(key: str) -> str:
    """Extension keys are constants of this module; refuse anything else loudly."""
    if not _KEY.match(key):
        raise ValueError(f"invalid CEF extension key {key!r}")
    return key


def as_text(value: Any) -> str:
    """A scalar as text; objects and arrays as compact JSON (sorted keys: deterministic)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return dumps_str(_sorted(value))


def _sorted(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [_sorted(v) for v in value]
    return value


def _checked(value: Any, kind: str) -> str | None:
    """``value`` as text when it fits the key's kind, else None (it stays in the data JSON)."""
    if value is None or isinstance(value, Mapping | list | tuple):
        return None
    text = as_text(value)
    if kind == "ip":
        try:
            ipaddress.ip_address(text)
        except ValueError:
            return None
    elif kind == "port" and (isinstance(value, bool) or not text.isdigit() or not 0 <= int(text) <= 65535):
        return None
    return text


def split_data(data: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """Well-known ``data`` keys as CEF keys, and the rest (for ``cs6``)."""
    mapped: dict[str, str] = {}
    rest = dict(data)
    for key, aliases, kind in DATA_ALIASES:
        for alias in aliases:
            if alias not in rest:
                continue
            text = _checked(rest[alias], kind)
            target = key
            if text is None and kind == "ip":
                target = _HOST_FALLBACK[key]
                text = _checked(rest[alias], "text")
            if text is not None and target not in mapped:
                mapped[target] = text
                del rest[alias]
                break
    return mapped, rest


def unmapped_data(event: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` without the copies of top-level fields it was normalized from (an envelope
    carries severity, asset and org_id inside ``data``): they are sent once, in their own fields."""
    data = dict(event.get("data") or {})
    for key in ("severity", "org_id", "asset"):
        if key in data and data[key] == event.get(key):
            del data[key]
    return data


def event_name(event: Mapping[str, Any]) -> tuple[str, str | None]:
    """The Name header (at most :data:`NAME_MAX` characters) and the ``data`` key it came from."""
    data = event.get("data") or {}
    for key in (*NAME_KEYS, "message", "description"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value[:NAME_MAX], key
    return str(event.get("type") or "event")[:NAME_MAX], None


def asset_fields(event: Mapping[str, Any]) -> list[tuple[int, str, str]]:
    """(slot, label, value) of org and asset. Slots are fixed (cs1 is always orgId, ...) so
    that a SIEM-side mapping holds for every event; absent values are skipped."""
    asset = event.get("asset") or {}
    tags = asset.get("tags")
    values = (event.get("org_id"), asset.get("name"), asset.get("id"), asset.get("type"),
              dumps_str([as_text(t) for t in tags]) if tags else None)  # fmt: skip
    return [
        (slot, label, as_text(value))
        for slot, (label, value) in enumerate(zip(CUSTOM_LABELS, values, strict=True), start=1)
        if value not in (None, "")
    ]


def extension_pairs(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The ordered (key, value) extension of an event, before escaping."""
    name, source = event_name(event)
    data = unmapped_data(event)
    if source in NAME_KEYS and data[source] == name and not {"\r", "\n"} & set(name):
        del data[source]  # the header holds it exactly: not repeated (else cs6 keeps the original)
    mapped, rest = split_data(data)
    pairs: list[tuple[str, str]] = [
        ("rt", str(epoch_ms(event["timestamp"]))),
        ("externalId", str(event["id"])),
        ("cat", str(event["type"])),
    ]
    pairs += [(key, mapped[key]) for key, _, _ in DATA_ALIASES if key in mapped and key != "msg"]
    for slot, label, value in asset_fields(event):
        pairs += [(f"cs{slot}Label", label), (f"cs{slot}", value)]
    if "msg" in mapped:
        pairs.append(("msg", mapped["msg"]))
    if rest:
        pairs += [("cs6Label", "data"), ("cs6", as_text(rest))]
    return pairs


def encode(event: Mapping[str, Any], *, vendor: str, product: str, version: str) -> str:
    """One CEF line (no trailing newline) for ``event``."""
    severity = SEVERITY_0_10.get(event.get("severity") or "info", SEVERITY_0_10["info"])
    header = [vendor, product, version, str(event["type"]), event_name(event)[0]]
    extension = " ".join(f"{check_key(k)}={escape_value(v)}" for k, v in extension_pairs(event))
    return "CEF:0|" + "|".join(escape_header(h) for h in header) + f"|{severity}|" + extension
