"""Turn the three accepted input shapes into the canonical event (DESIGN.md §3). Pure.

- canonical: ``{"id", "type", "timestamp", "severity", "org_id", "asset", "data"}``
- envelope:  ``{"event": "finding.new", "timestamp": ..., "data": {...}}`` (severity, asset and
  org_id are read from ``data`` when not given beside it)
- flat:      ``{"event_type": "transaction.denied", "timestamp": ..., ...}`` (``id``,
  ``severity``, ``org_id`` and ``asset`` are read when present; every other field goes to
  ``data``)

Every problem is reported at once, with the index of the event and the field, so a producer
can fix a whole batch in one go.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from delivery.formats.timefmt import iso_utc, parse_iso

SEVERITIES = ("info", "low", "medium", "high", "critical")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
_SEVERITY_ALIASES = {"informational": "info", "information": "info", "moderate": "medium", "crit": "critical"}
_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")
_FLAT_RESERVED = ("event_type", "id", "timestamp", "severity", "org_id", "asset")


class EventValidationError(ValueError):
    """One or more events are invalid; ``problems`` lists each (index, field, message)."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(f"[{p['index']}] {p['field']}: {p['message']}" for p in problems))
        self.problems = problems


def normalize_many(raw_events: list[Any], *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Normalize every event or raise EventValidationError listing every problem."""
    now = now or datetime.now(UTC)
    out: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    for index, raw in enumerate(raw_events):
        event, errors = _normalize_one(raw, now)
        problems.extend({"index": index, "field": field, "message": message} for field, message in errors)
        if event is not None:
            out.append(event)
    if problems:
        raise EventValidationError(problems)
    return out


def normalize(raw: Any, *, now: datetime | None = None) -> dict[str, Any]:
    return normalize_many([raw], now=now)[0]


def _normalize_one(raw: Any, now: datetime) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    if not isinstance(raw, Mapping):
        return None, [("event", "must be a JSON object")]
    errors: list[tuple[str, str]] = []
    data: Any
    if "type" in raw and "event" not in raw and "event_type" not in raw:
        type_field, type_value = "type", raw.get("type")
        data = raw.get("data", {})
        side: Mapping[str, Any] = {}
        unknown = set(raw) - {"id", "type", "timestamp", "severity", "org_id", "asset", "data"}
        if unknown:
            errors.append((sorted(unknown)[0], "unknown field (canonical events carry extra fields in data)"))
    elif "event" in raw:
        type_field, type_value = "event", raw.get("event")
        data = raw.get("data", {})
        side = data if isinstance(data, Mapping) else {}
    elif "event_type" in raw:
        type_field, type_value = "event_type", raw.get("event_type")
        data = {k: v for k, v in raw.items() if k not in _FLAT_RESERVED}
        side = {}
    else:
        return None, [("type", "missing: give 'type' (canonical), 'event' (envelope) or 'event_type' (flat)")]

    if not isinstance(type_value, str) or not _TYPE.match(type_value):
        errors.append((type_field, "must be a dotted event type such as 'finding.new' (letters, digits, . _ - :)"))
    if not isinstance(data, Mapping):
        errors.append(("data", "must be a JSON object"))
        data = {}

    event_id = _event_id(raw.get("id"), errors)
    timestamp = _timestamp(raw.get("timestamp"), now, errors)
    severity = _severity(raw.get("severity", side.get("severity")), errors)
    org_id = _org_id(raw.get("org_id", side.get("org_id")), errors)
    asset = _asset(raw.get("asset", side.get("asset")), errors)
    if errors:
        return None, errors
    return {
        "id": event_id,
        "type": type_value,
        "timestamp": timestamp,
        "severity": severity,
        "org_id": org_id,
        "asset": asset,
        "data": dict(data),
    }, []


def _event_id(value: Any, errors: list[tuple[str, str]]) -> str:
    if value is None or value == "":
        return str(uuid.uuid4())
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        errors.append(("id", "must be a UUID"))
        return ""


def _timestamp(value: Any, now: datetime, errors: list[tuple[str, str]]) -> str:
    if value is None or value == "":
        return iso_utc(now)
    if not isinstance(value, str):
        errors.append(("timestamp", "must be an ISO 8601 string such as 2026-01-31T12:00:00Z"))
        return ""
    try:
        return iso_utc(parse_iso(value))
    except ValueError:
        errors.append(("timestamp", f"is not ISO 8601: {value[:40]!r}"))
        return ""


def _severity(value: Any, errors: list[tuple[str, str]]) -> str:
    if value is None or value == "":
        return "info"
    if isinstance(value, str):
        name = value.strip().lower()
        name = _SEVERITY_ALIASES.get(name, name)
        if name in SEVERITY_RANK:
            return name
    errors.append(("severity", f"must be one of {', '.join(SEVERITIES)}"))
    return ""


def _org_id(value: Any, errors: list[tuple[str, str]]) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        errors.append(("org_id", "must be a string"))
        return None
    text = str(value)
    if len(text) > 128:
        errors.append(("org_id", "must be at most 128 characters"))
    return text


def _asset(value: Any, errors: list[tuple[str, str]]) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        errors.append(("asset", "must be an object {id, name, type, tags}"))
        return None
    asset: dict[str, Any] = {}
    for key in ("id", "name", "type"):
        item = value.get(key)
        if item is None:
            continue
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            errors.append((f"asset.{key}", "must be a string"))
        else:
            asset[key] = str(item)
    tags = value.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        errors.append(("asset.tags", "must be a list of strings"))
    else:
        asset["tags"] = tags
    for key, item in value.items():
        if key not in asset and key not in ("id", "name", "type", "tags"):
            asset[key] = item
    return asset
