"""Small helpers shared by the SaaS HTTP connectors (Elastic, Sentinel, Datadog, Sumo, XSIAM).

Kept out of ``base.py`` on purpose: they are conveniences, not part of the connector contract.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson

from delivery.connectors.base import SendResult
from delivery.formats.jsonenc import dumps
from siemhub.redaction import scrub

DETAIL_LIMIT = 256  # SendResult.detail is shown as last_error: at most 256 characters


class AuthenticationFailed(Exception):
    """Raised by ``Connector.authenticate`` / ``request_headers`` when no credential could be
    obtained (e.g. Azure AD refused the client secret). ``result`` is what the attempt should be
    recorded as; its ``detail`` is already scrubbed. The engine and the Test button should catch
    it and use ``result`` instead of sending the batch unauthenticated."""

    def __init__(self, result: SendResult) -> None:
        super().__init__(result.detail)
        self.result = result


def gzip_body(data: bytes) -> bytes:
    """gzip with a zero mtime and no file name, so the same input gives the same bytes
    (golden tests, and a retried batch is byte-identical on the wire). Level 6 is zlib's
    default speed/size trade-off; level 9 costs far more CPU for ~1 % smaller JSON."""
    return gzip.compress(data, compresslevel=6, mtime=0)


def with_default_path(url: str, path: str, *, accept_suffixes: Iterable[str] = ()) -> str:
    """The URL as given when its path already ends with ``path`` (or one of
    ``accept_suffixes``); otherwise ``path`` appended to whatever path it has (DESIGN.md §4:
    where only ``scheme://host:port`` is given, the connector appends the vendor's path)."""
    parts = urlsplit(url.strip())
    current = parts.path.rstrip("/")
    for suffix in (path, *accept_suffixes):
        if current.endswith(suffix):
            return urlunsplit((parts.scheme, parts.netloc, current, parts.query, ""))
    return urlunsplit((parts.scheme, parts.netloc, current + path, parts.query, ""))


def json_or_none(body: bytes) -> Any:
    """The decoded JSON body, or None when the body is empty or not JSON (a proxy's HTML page)."""
    if not body:
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def one_line(text: Any, limit: int = 200) -> str:
    """A remote string flattened to one line and cut to ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def safe_detail(text: str, secrets: Iterable[Any]) -> str:
    """Scrub every given secret (and known secrets, auth header values) and cut to 256 chars.

    Vendors sometimes echo what they received (a header, a URL path): never trust an error body
    not to contain the credential we sent."""
    return scrub(text, [s for s in secrets if s])[:DETAIL_LIMIT]


# Characters some line readers treat as line breaks, written raw by orjson inside strings.
# In UTF-8 these byte sequences can only be those characters, and JSON structure is ASCII, so
# replacing them with their \u escapes keeps the JSON identical in meaning.
_LINE_BREAKERS = ((b"\xe2\x80\xa8", b"\\u2028"), (b"\xe2\x80\xa9", b"\\u2029"), (b"\xc2\x85", b"\\u0085"))


def json_line(value: Any) -> bytes:
    """Compact JSON guaranteed to be one line for any line splitter (for NDJSON bodies)."""
    raw = dumps(value)
    for char, escaped in _LINE_BREAKERS:
        raw = raw.replace(char, escaped)
    return raw


def header_safe(value: str) -> bool:
    """True when ``value`` can go in an HTTP header without splitting it (no CR, LF or NUL)."""
    return not any(ch in value for ch in "\r\n\x00")


def secret_values(secrets: Mapping[str, Any]) -> list[str]:
    """Every non-empty string secret, for scrubbing."""
    return [v for v in secrets.values() if isinstance(v, str) and v]
