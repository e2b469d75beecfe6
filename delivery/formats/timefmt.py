"""Timestamp conversions for the canonical event's ``timestamp`` (ISO 8601, UTC)."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_iso(value: str) -> datetime:
    """Parse the canonical timestamp (``...Z`` or an offset); naive values are taken as UTC."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def iso_utc(moment: datetime) -> str:
    """``2026-01-02T03:04:05.123456Z``: the canonical stored form."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def epoch_ms(value: str) -> int:
    """Epoch milliseconds (OCSF ``time``, CEF ``rt``)."""
    moment = parse_iso(value)
    return int(moment.timestamp()) * 1000 + moment.microsecond // 1000


def epoch_seconds_text(value: str) -> str:
    """Epoch seconds with millisecond precision as plain decimal text (Splunk HEC ``time``).

    Built from integers so it never turns into scientific notation or loses precision.
    """
    ms = epoch_ms(value)
    return f"{ms // 1000}.{ms % 1000:03d}"
