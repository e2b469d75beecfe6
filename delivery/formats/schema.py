"""Choose the output schema per integration (``config.schema``): ``native`` or ``ocsf``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from delivery.formats.native import to_native

SCHEMAS = ("native", "ocsf")


def render(event: Mapping[str, Any], schema: str | None) -> dict[str, Any]:
    """The event as the integration's schema wants it."""
    if schema == "ocsf":
        from delivery.formats.ocsf import to_ocsf

        return to_ocsf(event)
    return to_native(event)
