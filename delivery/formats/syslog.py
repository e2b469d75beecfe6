"""RFC 5424 syslog messages and their framing (RFC 6587 / RFC 5425) and UDP size handling.

Sources (see WIRE-FORMATS.md §8):
- RFC 5424 §6 message format: https://datatracker.ietf.org/doc/html/rfc5424#section-6
- RFC 5425 (TLS, octet counting): https://datatracker.ietf.org/doc/html/rfc5425#section-4.3
- RFC 5426 (UDP, one message per datagram, 2048-octet SHOULD): https://datatracker.ietf.org/doc/html/rfc5426
- RFC 6587 (TCP framing, octet counting vs LF trailer): https://datatracker.ietf.org/doc/html/rfc6587#section-3.4

Decisions, so that receivers and admins know what to expect:
- ``PRI = facility * 8 + severity``. Event severity → syslog severity: info → 6 Informational,
  low → 5 Notice, medium → 4 Warning, high → 3 Error, critical → 2 Critical. (0 Emergency and 1
  Alert mean "the system is unusable / act now" for the *sending* host; no single security event
  of another system warrants them.)
- HEADER: ``<PRI>1 TIMESTAMP HOSTNAME siemhub - MSGID``. TIMESTAMP is the event's own time in UTC
  with microseconds (RFC 3339, ``...Z``); MSGID is the event type cut to 32 PRINTUSASCII characters
  (a UUID does not fit, so the event id travels in structured data or in the CEF/LEEF payload).
- SD-ID ``siemhub@32473``: 32473 is the IANA enterprise number reserved for documentation
  (RFC 5612). It is a placeholder until siemhub registers its own Private Enterprise Number; the
  SD-ID is the only place it appears (``SD_ID`` below).
- MSG is sent **without** a BOM. RFC 5424 allows MSG-ANY; CEF and LEEF receivers (ArcSight,
  QRadar) detect their payload by its first characters ``CEF:`` / ``LEEF:``, which a BOM would hide,
  and JSON must not start with one (RFC 8259 §8.1). The bytes are UTF-8 all the same.
- UDP: a message over the size limit (2048 bytes by default, RFC 5426's SHOULD-accept size) is cut
  at a UTF-8 character boundary, never inside an escape sequence, and ends with the visible
  marker ``…[truncated]``. Callers count every truncation. TCP and TLS never truncate.
- LF framing cannot carry a raw LF: the only place one can occur is an SD-PARAM value (CEF, LEEF
  and JSON escape theirs), and there it is sent as a space. Octet counting carries it unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

SD_ID = "siemhub@32473"
APP_NAME = "siemhub"
NILVALUE = "-"
TRUNCATION_MARKER = "…[truncated]".encode()
UDP_MAX_BYTES = 2048

FACILITIES: dict[str, int] = {
    "kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7,
    "uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11, "ntp": 12, "security": 13, "console": 14,
    "solaris-cron": 15, "local0": 16, "local1": 17, "local2": 18, "local3": 19, "local4": 20,
    "local5": 21, "local6": 22, "local7": 23,
}  # fmt: skip
SYSLOG_SEVERITY: dict[str, int] = {"info": 6, "low": 5, "medium": 4, "high": 3, "critical": 2}
FRAMINGS = ("octet-counting", "lf")

_NOT_PRINTUSASCII = re.compile(r"[^\x21-\x7e]")
# A trailing, incomplete backslash escape: an odd run of backslashes, optionally followed by the
# start of a ``\xHH`` escape (LEEF). Cutting there would make the marker part of an escape.
_PARTIAL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*(\\(?:x[0-9A-Fa-f]?)?)$")


def facility_code(value: str | int | None) -> int:
    """A facility name (``local0``) or number (0-23); ``None``/empty means local0."""
    if value is None or value == "":
        return FACILITIES["local0"]
    if isinstance(value, int) or str(value).strip().isdigit():
        code = int(value)
        if 0 <= code <= 23:
            return code
        raise ValueError(f"facility {code} is outside 0-23")
    try:
        return FACILITIES[str(value).strip().lower()]
    except KeyError:
        raise ValueError(f"unknown facility {value!r}") from None


def pri(facility: int, severity: str | None) -> int:
    """PRIVAL for an event severity (unknown severities count as info)."""
    return facility * 8 + SYSLOG_SEVERITY.get(severity or "info", 6)


def header_token(value: str, max_len: int) -> str:
    """A HEADER field: PRINTUSASCII only (others become ``_``), at most ``max_len``, or ``-``."""
    token = _NOT_PRINTUSASCII.sub("_", value or "")[:max_len]
    return token or NILVALUE


def msgid_for(event_type: str) -> str:
    return header_token(event_type, 32)


def escape_sd_value(value: str) -> str:
    """PARAM-VALUE escaping (RFC 5424 §6.3.3): ``"``, ``\\`` and ``]`` get a backslash."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def sd_element(sd_id: str, params: Iterable[tuple[str, str]]) -> str:
    """``[SD-ID name="value" ...]``. Names are ours (constants), so only checked, not escaped."""
    parts = [sd_id]
    for name, value in params:
        if not name or len(name) > 32 or re.search(r'[^\x21-\x7e]|[= \]"]', name):
            raise ValueError(f"invalid SD-PARAM name {name!r}")
        parts.append(f'{name}="{escape_sd_value(value)}"')
    return "[" + " ".join(parts) + "]"


def head(*, prival: int, timestamp: str, hostname: str, msgid: str, structured_data: str) -> bytes:
    """HEADER SP STRUCTURED-DATA, without the MSG. ``timestamp`` is already RFC 3339."""
    fields = (
        f"<{prival}>1",
        timestamp or NILVALUE,
        header_token(hostname, 255),
        APP_NAME,
        NILVALUE,  # PROCID: the worker's pid would only say which process sent it
        msgid or NILVALUE,
        structured_data or NILVALUE,
    )
    return " ".join(fields).encode("utf-8")


def message(head_sd: bytes, msg: bytes) -> bytes:
    """SYSLOG-MSG = HEADER SP STRUCTURED-DATA [SP MSG] (no BOM, see the module docstring)."""
    return head_sd + b" " + msg if msg else head_sd


def truncate_utf8(data: bytes, limit: int, marker: bytes = TRUNCATION_MARKER) -> bytes:
    """``data`` cut so that ``result + marker`` fits ``limit`` bytes, then the marker.

    The cut never splits a UTF-8 sequence and never leaves half an escape (``\\``, ``\\x5``)
    before the marker, so a strict CEF/LEEF decoder still reads the truncated value.
    """
    room = max(0, limit - len(marker))
    # ``data`` is valid UTF-8, so "ignore" drops exactly the character split at the cut, if any.
    cut = data[:room].decode("utf-8", "ignore").encode("utf-8")
    partial = _PARTIAL_ESCAPE.search(cut)
    if partial and partial.group(1):
        cut = cut[: partial.start(1)]
    return cut + marker


def fit_datagram(head_sd: bytes, head_nosd: bytes, msg: bytes, limit: int) -> tuple[bytes, bool]:
    """The UDP datagram for a message and whether it had to be truncated.

    Only MSG is cut. If even HEADER + STRUCTURED-DATA leave no room for the marker (a huge event
    type or org id), the structured data is dropped (``head_nosd`` ends in ``-``) and MSG, which
    repeats every SD value, is cut instead.
    """
    whole = message(head_sd, msg)
    if len(whole) <= limit:
        return whole, False
    base = head_sd if len(head_sd) + 1 + len(TRUNCATION_MARKER) <= limit else head_nosd
    return base + b" " + truncate_utf8(msg, limit - len(base) - 1), True


def frame_octet_counting(msg: bytes) -> bytes:
    """``MSG-LEN SP SYSLOG-MSG``; MSG-LEN counts octets, not characters (RFC 6587 §3.4.1)."""
    return str(len(msg)).encode("ascii") + b" " + msg


def frame_lf(msg: bytes) -> bytes:
    """Non-transparent framing with an LF trailer (RFC 6587 §3.4.2); raw LFs become spaces."""
    return msg.replace(b"\n", b" ") + b"\n"


def frame(msg: bytes, framing: str) -> bytes:
    if framing == "lf":
        return frame_lf(msg)
    if framing == "octet-counting":
        return frame_octet_counting(msg)
    raise ValueError(f"unknown framing {framing!r}")


def structured_data(params: Mapping[str, str | None]) -> str:
    """The siemhub SD element with the non-empty params, in the given order."""
    return sd_element(SD_ID, [(k, v) for k, v in params.items() if v is not None])
