"""Shared fixtures for the SaaS connector tests: hostile events, a stable OCSF stand-in,
golden-file comparison and an engine-like round trip through HttpTransport."""

from __future__ import annotations

import os
import sys
import types
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from delivery.connectors.base import Connector, OutboundRequest, SendResult, TransportResponse
from delivery.formats.timefmt import epoch_ms
from delivery.transports.http import HttpTransport

GOLDEN_DIR = Path(__file__).resolve().parents[2] / "golden"

CANONICAL = {
    "id": "0b6c3a1e-8f5e-4c1a-9d7e-2f4b6a8c0d12",
    "type": "finding.new",
    "timestamp": "2024-05-31T16:08:37.123000Z",
    "severity": "high",
    "org_id": "acme",
    "asset": {"id": "a-1", "name": "web-01", "type": "host", "tags": ["prod", "dmz"]},
    "data": {"title": "SQL injection in /login", "cve": "CVE-2024-0001", "score": 9.1},
}

# One event per severity, with the strings that break naive encoders: quotes, backslashes,
# CR/LF/tab, unicode (incl. U+2028 and an astral emoji), pipes and equals signs.
EVENTS: list[dict[str, Any]] = [
    CANONICAL,
    {
        "id": "1d2e3f40-0000-4000-8000-000000000001",
        "type": "auth.login.failed",
        "timestamp": "2024-05-31T16:08:38.000000Z",
        "severity": "info",
        "org_id": None,
        "asset": None,
        "data": {"user": 'alice "the admin"', "path": "C:\\Users\\alice\\", "note": "line1\nline2\r\nline3\ttab"},
    },
    {
        "id": "1d2e3f40-0000-4000-8000-000000000002",
        "type": "scan.completed",
        "timestamp": "2024-05-31T16:08:39.500000Z",
        "severity": "low",
        "org_id": "org-ü",
        "asset": {"id": "a-2", "name": "café ☕ 日本語", "type": "host", "tags": []},
        "data": {"target": "naïve 🚀 \u2028sep", "findings": 0},
    },
    {
        "id": "1d2e3f40-0000-4000-8000-000000000003",
        "type": "transaction.denied",
        "timestamp": "2024-05-31T16:08:40.001000Z",
        "severity": "medium",
        "org_id": "acme",
        "asset": None,
        "data": {"rule": "a|b|c", "expr": "x=1,y=2", "cef": "CEF:0|x|y\\|z", "k=v": "=|="},
    },
    {
        "id": "1d2e3f40-0000-4000-8000-000000000004",
        "type": "action.completed",
        "timestamp": "2024-05-31T16:08:41.999000Z",
        "severity": "critical",
        "org_id": "acme",
        "asset": {"id": "a-3", "name": "db,01=primary|x", "type": "database", "tags": ["pci", "k=v"]},
        "data": {"nested": {"list": [1, 2.5, True, None], "empty": {}}, "big": 12345678901234567890},
    },
]

SEVERITY_ID = {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}


def fake_to_ocsf(event: Mapping[str, Any]) -> dict[str, Any]:
    """A small, stable OCSF-shaped rendering. Golden files pin the connectors' framing, not the
    OCSF mapping (owned and tested in delivery/formats/ocsf.py), so they use this stand-in."""
    finding = str(event["type"]).startswith("finding.")
    class_uid = 2004 if finding else 0
    return {
        "class_uid": class_uid,
        "category_uid": 2 if finding else 0,
        "activity_id": 1,
        "type_uid": class_uid * 100 + 1,
        "time": epoch_ms(event["timestamp"]),
        "severity_id": SEVERITY_ID[event.get("severity") or "info"],
        "message": event["type"],
        "metadata": {"version": "1.1.0", "uid": event["id"], "product": {"vendor_name": "siemhub", "name": "siemhub"}},
        "unmapped": event.get("data") or {},
    }


@pytest.fixture
def fake_ocsf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Route ``render(event, "ocsf")`` to :func:`fake_to_ocsf` (schema.render imports lazily)."""
    module = types.ModuleType("delivery.formats.ocsf")
    module.to_ocsf = fake_to_ocsf  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "delivery.formats.ocsf", module)


def real_ocsf_available() -> bool:
    try:
        from delivery.formats import ocsf  # noqa: F401
    except ImportError:
        return False
    return hasattr(ocsf, "to_ocsf")


def assert_golden(name: str, data: bytes) -> None:
    """Byte-for-byte comparison with tests/golden/<name>. ``SIEMHUB_UPDATE_GOLDEN=1`` rewrites
    the file (then inspect the diff by eye before committing)."""
    path = GOLDEN_DIR / name
    if os.environ.get("SIEMHUB_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert path.exists(), f"golden file {path} missing: run with SIEMHUB_UPDATE_GOLDEN=1 once"
    assert data == path.read_bytes(), f"output differs from {path}"


def response(status: int | None, body: bytes | str = b"", headers: Mapping[str, str] | None = None, error: str = "") -> TransportResponse:
    raw = body.encode() if isinstance(body, str) else body
    return TransportResponse(status_code=status, body=raw, headers={k.lower(): v for k, v in (headers or {}).items()}, error=error)


def make_event(i: int, payload_size: int = 0, **extra: Any) -> dict[str, Any]:
    """A canonical event with a deterministic id and an optional padding field."""
    event = {
        "id": str(uuid.UUID(int=i + 1)),
        "type": "finding.new",
        "timestamp": "2024-05-31T16:08:37.123000Z",
        "severity": "low",
        "org_id": None,
        "asset": None,
        "data": {"n": i, "pad": "x" * payload_size},
    }
    event.update(extra)
    return event


def assert_split_invariants(requests: Sequence[OutboundRequest], events: Sequence[Mapping[str, Any]]) -> None:
    """Every event id in exactly one request, in input order."""
    ids = [eid for req in requests for eid in req.event_ids]
    assert ids == [str(e["id"]) for e in events]


def send_all(connector: Connector, events: Sequence[Mapping[str, Any]]) -> list[tuple[OutboundRequest, TransportResponse, SendResult]]:
    """What the engine and the Test button do: authenticate, build, send with the final
    headers, parse, confirm — through the real HttpTransport."""
    transport = HttpTransport(**connector.transport_options())
    try:
        connector.authenticate(transport.send)
        out = []
        for req in connector.build_requests(events):
            resp = transport.send(req, headers=dict(connector.request_headers(req)))
            result = connector.parse_response(req, resp)
            result = connector.confirm(req, resp, result, transport.send)
            out.append((req, resp, result))
        return out
    finally:
        transport.close()
