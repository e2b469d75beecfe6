"""The ``native`` output schema: the envelope shape plus ``id`` and ``severity`` (DESIGN.md §3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def to_native(event: Mapping[str, Any]) -> dict[str, Any]:
    """``{"id", "event", "timestamp", "severity", ["org_id"], ["asset"], "data"}``."""
    out: dict[str, Any] = {
        "id": event["id"],
        "event": event["type"],
        "timestamp": event["timestamp"],
        "severity": event.get("severity") or "info",
    }
    if event.get("org_id"):
        out["org_id"] = event["org_id"]
    if event.get("asset"):
        out["asset"] = event["asset"]
    out["data"] = event.get("data") or {}
    return out
