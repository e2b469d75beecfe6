"""Value-aware secret scrubbing shared by logs, ``last_error``, audit diffs and API answers.

Key-name matching alone misses secrets embedded in URLs or header values (a Sumo Logic source
URL *is* its credential). So besides names, every loaded secret value is remembered in this
process and replaced wherever it shows up.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REDACTED = "[REDACTED]"
# Values shorter than this are not scrubbed by value (too likely to hit ordinary text);
# they are still redacted by field name.
MIN_SECRET_LEN = 4

SENSITIVE_KEY = re.compile(r"API|TOKEN|KEY|SECRET|PASS|SIGNATURE|AUTH|CREDENTIAL|COOKIE", re.I)
# An auth header's value, in text ("Authorization: Basic abc") or echoed back as JSON
# ('"authorization": "Basic abc"'): the scheme word and the credential after it.
_AUTH_HEADER = re.compile(
    r"(?i)\b(authorization|dd-api-key|x-api-key|api-key|x-xdr-auth-id|cookie)"
    r"(\"?\s*[:=]\s*\"?)([^\s,;\"]+(?:[ ]+[^\s,;\"]+)?)"
)

_lock = threading.Lock()
_known: set[str] = set()


def remember_secrets(values: Iterable[Any]) -> None:
    """Record secret values loaded in this process so every later log line is scrubbed."""
    fresh = {v for v in _flatten(values) if len(v) >= MIN_SECRET_LEN}
    if fresh - _known:
        with _lock:
            _known.update(fresh)


def _flatten(values: Iterable[Any]) -> Iterable[str]:
    for value in values:
        if isinstance(value, str):
            yield value
            # A secret also leaks in its URL-encoded or base64 forms; cover the common ones.
            from urllib.parse import quote

            quoted = quote(value, safe="")
            if quoted != value:
                yield quoted
        elif isinstance(value, Mapping):
            yield from _flatten(value.values())
        elif isinstance(value, (list, tuple, set)):
            yield from _flatten(value)


def scrub(text: str, secrets: Iterable[Any] = ()) -> str:
    """Replace every known or given secret value, and auth header values, in ``text``."""
    if not text:
        return text
    values = set(_flatten(secrets)) | _known
    # Longest first, so a secret that contains another is replaced whole.
    for value in sorted(values, key=len, reverse=True):
        if len(value) >= MIN_SECRET_LEN and value in text:
            text = text.replace(value, REDACTED)
    return _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


def scrub_data(value: Any, secrets: Iterable[Any] = (), *, exempt_keys: Iterable[str] = ()) -> Any:
    """Deep copy of JSON-like ``value`` with secret-named keys and secret values redacted.

    ``exempt_keys`` are key names known not to hold secrets although their name looks like it
    (e.g. a connector's ``signature`` scheme choice); their values are still scrubbed by value.
    """
    secret_list = list(secrets)
    exempt = frozenset(exempt_keys)
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if (isinstance(key, str) and key not in exempt and SENSITIVE_KEY.search(key)
                    and item not in (None, "", False, True) and not isinstance(item, (Mapping, list))):
                out[key] = REDACTED
            else:
                out[key] = scrub_data(item, secret_list, exempt_keys=exempt)
        return out
    if isinstance(value, list):
        return [scrub_data(item, secret_list, exempt_keys=exempt) for item in value]
    if isinstance(value, str):
        return scrub(value, secret_list)
    return value


def sanitize_url(url: str) -> str:
    """``scheme://host[:port]/path`` with user info, query and fragment removed, for logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid url>"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
