"""The delivery engine. ``delivery.emit(...)`` is the Python entry point for producers."""

from __future__ import annotations

from typing import Any


def emit(event: Any = None, /, **fields: Any) -> list[str]:
    """Store one event (a dict in any accepted shape), a list of them, or keyword fields.

    Runs inside the caller's transaction: the events commit (or roll back) with it, and
    delivery starts after the commit. Returns the event ids. Raises
    ``delivery.normalize.EventValidationError`` listing every problem; nothing is stored then.

        delivery.emit({"event": "finding.new", "data": {...}})
        delivery.emit(type="scan.completed", severity="low", data={"scan_id": 7})
    """
    from delivery.services import event_emit

    if event is None:
        events = [fields]
    elif isinstance(event, list):
        events = event
    else:
        events = [event]
    return event_emit(events)
