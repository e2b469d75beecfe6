"""Presentation helpers shared by the pages: type badges (driven by the registry, so a new
connector gets a badge without any template change)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from delivery.connectors import CONNECTORS

PALETTE_SIZE = 10


@dataclass(frozen=True)
class TypeInfo:
    """A destination type as the pages show it."""

    type: str
    label: str
    monogram: str
    tone: int
    deprecated: str
    example_url: str

    @property
    def badge_class(self) -> str:
        return f"tone-{self.tone}"


def _monogram(label: str) -> str:
    words = [w for w in label.replace("(", " ").split() if w[:1].isalpha()]
    letters = "".join(w[0] for w in words[:2]).upper()
    return letters or label[:2].upper()


def _tone(integration_type: str) -> int:
    """A stable colour per type: registry position (distinct for the first ten types), else
    a checksum of the name (crc32, not hash(): that changes between processes)."""
    order = list(CONNECTORS)
    if integration_type in order:
        return order.index(integration_type) % PALETTE_SIZE
    return zlib.crc32(integration_type.encode()) % PALETTE_SIZE


def type_info(integration_type: str) -> TypeInfo:
    connector = CONNECTORS.get(integration_type)
    label = connector.label if connector else integration_type
    return TypeInfo(
        type=integration_type,
        label=label,
        monogram=_monogram(label),
        tone=_tone(integration_type),
        deprecated=connector.deprecated if connector else "",
        example_url=connector.example_url if connector else "",
    )


def type_catalog() -> list[TypeInfo]:
    """Every registered type: current ones first, retired ones last."""
    infos = [type_info(t) for t in CONNECTORS]
    return sorted(infos, key=lambda i: bool(i.deprecated))
