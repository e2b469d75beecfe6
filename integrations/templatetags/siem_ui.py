"""Small display filters for the Settings → SIEM templates."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def ago(value: datetime | None) -> str:
    """``3 minutes ago``; ``just now`` under a minute (timesince would say "0 minutes")."""
    if not value:
        return ""
    if timezone.now() - value < timedelta(minutes=1):
        return "just now"
    return f"{timesince(value)} ago"


@register.filter
def clock(iso: str) -> str:
    """``HH:MM:SS`` of an ISO 8601 UTC timestamp (the full value goes in a title)."""
    return iso[11:19] if isinstance(iso, str) and len(iso) >= 19 else str(iso or "")
