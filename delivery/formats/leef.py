"""IBM QRadar Log Event Extended Format (LEEF) 2.0, from a canonical event.

Spec: IBM, "LEEF event components" and "Predefined LEEF event attributes"
(https://www.ibm.com/docs/en/dsm?topic=overview-leef-event-components), WIRE-FORMATS.md §7.

``LEEF:2.0|Vendor|Product|Version|EventID|DelimiterCharacter|key=value<delim>key=value...``

- Delimiter: ``^`` by default (IBM's own LEEF 2.0 example). A tab is LEEF 1.0's fixed separator,
  but syslog relays commonly rewrite control characters (rsyslog turns a tab into ``#011`` unless
  told otherwise), which would glue every attribute together on the way to QRadar; ``^`` survives
  any relay. A tab delimiter is supported too and is written ``x09`` in the header.
- Escaping. IBM defines none; it only advises against delimiters in values. So values are
  escaped so that *no* parser, escape-aware or not, can be led to split them: ``\\`` → ``\\\\``,
  CR → ``\\r``, LF → ``\\n``, TAB → ``\\t``, the delimiter and every other control character →
  ``\\xHH``. A value therefore never contains the delimiter, a newline or a tab. ``=`` and ``|``
  stay as they are: QRadar splits an attribute at its first ``=`` and the header ends at the
  delimiter field. Keys are constants (``[A-Za-z0-9]+``).
- Header fields (vendor, product, version, EventID) cannot be escaped reliably, so characters
  that would shift them (``|``, ``\\``, the delimiter, control characters) become ``_``. The exact
  event type is also sent in ``cat``.
- Attributes: ``devTime`` (``yyyy-MM-dd'T'HH:mm:ss.SSSZ``, the pattern in IBM's own example,
  given in ``devTimeFormat``), ``sev`` (1-10, :data:`delivery.formats.cef.SEVERITY_0_10`),
  ``cat`` = event type, ``externalId`` = event id, the predefined ``src``, ``dst``, ``srcPort``,
  ``dstPort``, ``usrName``, ``url``, ``proto`` from well-known ``data`` keys (the same aliases as
  CEF, :data:`delivery.formats.cef.DATA_ALIASES`), custom keys for the other well-known ones, the
  org and asset, ``msg``, and every other ``data`` key as sorted compact JSON in ``data`` (last).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from delivery.formats.cef import DATA_ALIASES, SEVERITY_0_10, as_text, asset_fields, split_data, unmapped_data
from delivery.formats.timefmt import parse_iso

DEFAULT_DELIMITER = "^"
DEV_TIME_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSZ"  # Java SimpleDateFormat, as QRadar reads it

# CEF key (from split_data) → LEEF key: QRadar's predefined names where one exists.
LEEF_KEYS: dict[str, str] = {
    "src": "src", "dst": "dst", "spt": "srcPort", "dpt": "dstPort", "shost": "srcHost",
    "dhost": "dstHost", "suser": "usrName", "duser": "dstUsrName", "suid": "usrId",
    "duid": "dstUsrId", "act": "action", "outcome": "outcome", "reason": "reason",
    "request": "url", "requestMethod": "method", "proto": "proto", "app": "appProto",
    "fname": "fileName", "filePath": "filePath", "fileHash": "fileHash",
}  # fmt: skip
_KEY = re.compile(r"^[A-Za-z0-9]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def delimiter_field(delimiter: str) -> str:
    """How the delimiter is written in the header: printable as is, otherwise ``xHH``."""
    if len(delimiter) != 1 or delimiter in "|=\\" or delimiter.isalnum():
        raise ValueError(f"unusable LEEF delimiter {delimiter!r}")
    return delimiter if delimiter.isprintable() and delimiter != " " else f"x{ord(delimiter):02x}"


def escape_value(value: str, delimiter: str) -> str:
    return _escaper(delimiter).sub(_escape_one, value)


@functools.lru_cache(maxsize=8)
def _escaper(delimiter: str) -> re.Pattern[str]:
    return re.compile("[\\\\\x00-\x1f\x7f" + re.escape(delimiter) + "]")


def _escape_one(match: re.Match[str]) -> str:
    ch = match.group(0)
    return _NAMED.get(ch) or f"\\x{ord(ch):02x}"


_NAMED = {"\\": "\\\\", "\r": "\\r", "\n": "\\n", "\t": "\\t"}


def header_field(value: str, delimiter: str) -> str:
    return "".join("_" if ch in "|\\" or ch == delimiter or _CONTROL.match(ch) else ch for ch in value)


def dev_time(timestamp: str) -> str:
    """``2024-05-31T16:08:37.123+0000``: milliseconds, numeric zone, as ``DEV_TIME_FORMAT``."""
    moment = parse_iso(timestamp)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def attributes(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The ordered (key, value) attributes of an event, before escaping."""
    # LEEF has no Name field: a title stays in ``data`` with the other unmapped keys.
    mapped, rest = split_data(unmapped_data(event))
    pairs: list[tuple[str, str]] = [
        ("devTime", dev_time(event["timestamp"])),
        ("devTimeFormat", DEV_TIME_FORMAT),
        ("sev", str(SEVERITY_0_10.get(event.get("severity") or "info", SEVERITY_0_10["info"]))),
        ("cat", str(event["type"])),
        ("externalId", str(event["id"])),
    ]
    pairs += [(LEEF_KEYS[key], mapped[key]) for key, _, _ in DATA_ALIASES if key in mapped and key != "msg"]
    pairs += [(label, value) for _, label, value in asset_fields(event)]
    if "msg" in mapped:
        pairs.append(("msg", mapped["msg"]))
    if rest:
        pairs.append(("data", as_text(rest)))
    return pairs


def encode(
    event: Mapping[str, Any], *, vendor: str, product: str, version: str, delimiter: str = DEFAULT_DELIMITER
) -> str:
    """One LEEF 2.0 line (no trailing newline) for ``event``."""
    header = [vendor, product, version, str(event["type"])]
    parts = []
    for key, value in attributes(event):
        if not _KEY.match(key):
            raise ValueError(f"invalid LEEF attribute key {key!r}")
        parts.append(f"{key}={escape_value(value, delimiter)}")
    head = "|".join(header_field(h, delimiter) for h in header)
    return f"LEEF:2.0|{head}|{delimiter_field(delimiter)}|" + delimiter.join(parts)
