"""Per-integration event filters (DESIGN.md §4). Pure.

``{"events": ["finding.*", "auth.login.failed"], "min_severity": "high",
   "asset_tags": ["prod"], "exclude": ["finding.resolved"]}``

- ``events``: types to forward; ``*`` matches any run of characters (``finding.*`` matches
  ``finding.new`` and ``finding.sla.breached``); empty or missing = every type.
- ``exclude``: types to drop, same patterns; wins over ``events``.
- ``min_severity``: forward only events at or above it.
- ``asset_tags``: forward only events whose asset carries at least one of these tags.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from delivery.normalize import SEVERITIES, SEVERITY_RANK

FILTER_KEYS = ("events", "min_severity", "asset_tags", "exclude")
_PATTERN = re.compile(r"^[A-Za-z0-9_.:\-*]{1,128}$")


@lru_cache(maxsize=1024)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$")


def type_matches(patterns: list[str] | tuple[str, ...], event_type: str) -> bool:
    return any(_compile(p).match(event_type) for p in patterns)


def event_matches(filters: Mapping[str, Any] | None, event: Mapping[str, Any]) -> bool:
    """Would an integration with ``filters`` receive ``event`` (a canonical event dict)?"""
    if not filters:
        return True
    event_type = event.get("type", "")
    wanted = filters.get("events") or []
    if wanted and not type_matches(tuple(wanted), event_type):
        return False
    excluded = filters.get("exclude") or []
    if excluded and type_matches(tuple(excluded), event_type):
        return False
    minimum = filters.get("min_severity")
    if minimum and SEVERITY_RANK.get(event.get("severity") or "info", 0) < SEVERITY_RANK.get(minimum, 0):
        return False
    tags = filters.get("asset_tags") or []
    if tags:
        asset_tags = set(((event.get("asset") or {}).get("tags")) or [])
        if not asset_tags.intersection(tags):
            return False
    return True


def explain_mismatch(filters: Mapping[str, Any] | None, event: Mapping[str, Any]) -> str:
    """Why an event would not match (for the "would this event match?" check); '' if it would."""
    if event_matches(filters, event):
        return ""
    filters = filters or {}
    event_type = event.get("type", "")
    if filters.get("events") and not type_matches(tuple(filters["events"]), event_type):
        return f"type {event_type} is not in the selected event types"
    if filters.get("exclude") and type_matches(tuple(filters["exclude"]), event_type):
        return f"type {event_type} is excluded"
    if filters.get("min_severity"):
        return f"severity {event.get('severity')} is below {filters['min_severity']}"
    return "the event's asset has none of the selected tags"


def validate_filters(raw: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Clean ``raw`` filters; returns (clean, errors keyed by ``filters.<key>``)."""
    errors: dict[str, str] = {}
    if raw in (None, ""):
        return {}, errors
    if not isinstance(raw, Mapping):
        return {}, {"filters": "must be an object with events, min_severity, asset_tags, exclude"}
    clean: dict[str, Any] = {}
    for key in raw:
        if key not in FILTER_KEYS:
            errors[f"filters.{key}"] = f"unknown filter; use {', '.join(FILTER_KEYS)}"
    for key in ("events", "exclude"):
        value = raw.get(key) or []
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) and _PATTERN.match(v) for v in value):
            errors[f"filters.{key}"] = "must be a list of event types; '*' is the only wildcard"
        elif value:
            clean[key] = value
    minimum = raw.get("min_severity")
    if minimum not in (None, ""):
        if minimum not in SEVERITY_RANK:
            errors["filters.min_severity"] = f"must be one of {', '.join(SEVERITIES)}"
        else:
            clean["min_severity"] = minimum
    tags = raw.get("asset_tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",") if t.strip()]
    if not isinstance(tags, list) or not all(isinstance(t, str) and 0 < len(t) <= 128 for t in tags):
        errors["filters.asset_tags"] = "must be a list of tag strings"
    elif tags:
        clean["asset_tags"] = tags
    return clean, errors
