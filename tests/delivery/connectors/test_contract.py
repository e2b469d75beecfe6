"""The connector contract, checked for every registered type at once.

Every connector takes events from all three input shapes (envelope, flat, canonical, through
normalization), keeps every event id exactly once and in order across its requests, respects
its limits unless a single event is larger than them, validates through the same path the API
uses, and never puts a secret where it does not belong.
"""

from __future__ import annotations

import gzip
import importlib
import pkgutil
import uuid
from pathlib import Path

import pytest

import delivery.connectors as connectors_pkg
from delivery.connectors import CONNECTORS
from delivery.connectors.base import Connector
from integrations.validation import integration_clean
from tests.delivery.connectors.events import EVENTS

DESIGN_TYPES = {"splunk", "elastic", "sentinel", "sentinel_legacy", "datadog", "sumo", "syslog", "xsiam", "webhook"}
SECRET = "Zq9-contract-secret-value-7Xy"
CONFIGS = {
    "splunk": {"endpoint": "https://127.0.0.1:8088", "token": SECRET},
    "elastic": {"url": "https://127.0.0.1:9200", "api_key": SECRET},
    "sentinel": {"tenant_id": "00000000-0000-0000-0000-00000000000a", "client_id": "00000000-0000-0000-0000-00000000000b",
                 "client_secret": SECRET, "dcr_endpoint": "https://127.0.0.1:8443",
                 "dcr_rule_id": "dcr-00000000000000000000000000000000", "stream_name": "Custom-SiemhubEvents"},
    "sentinel_legacy": {"workspace_id": "00000000-0000-0000-0000-00000000000c",
                        "shared_key": "c2hhcmVkLWtleS1mb3ItY29udHJhY3QtdGVzdHMtb25seQ==",
                        "endpoint": "https://127.0.0.1:8444"},
    "datadog": {"api_key": SECRET, "endpoint": "https://127.0.0.1:8445"},
    "sumo": {"url": f"https://127.0.0.1:8446/receiver/v1/http/{SECRET}"},
    "xsiam": {"url": "https://127.0.0.1:8447/logs/v1/event", "api_key": SECRET, "api_key_id": "7"},
    "webhook": {"endpoint": "https://127.0.0.1:8448/hook", "secret": SECRET},
    "syslog": {"host": "127.0.0.1", "port": 6514, "protocol": "tls", "format": "cef"},
}


def build(type_: str, **extra) -> Connector:
    clean = integration_clean(integration_type=type_, config={**CONFIGS[type_], **extra}, filters={})
    return CONNECTORS[type_](config=clean.config, secrets=clean.secrets)


def test_registry_matches_the_design_and_every_module_is_registered():
    assert set(CONNECTORS) == DESIGN_TYPES
    modules = {m.name for m in pkgutil.iter_modules([str(Path(connectors_pkg.__file__).parent)])}
    vendor_modules = {m for m in modules if not m.startswith("_") and m not in ("base", "fields")}
    assert vendor_modules == DESIGN_TYPES
    for type_, cls in CONNECTORS.items():
        module = importlib.import_module(f"delivery.connectors.{type_}")
        assert cls.__module__ == module.__name__ and cls.type == type_
        assert cls.limits.max_events > 0 and cls.limits.max_bytes > 0
        assert cls.secret_fields and set(cls.secret_fields) <= set(cls.config_form.base_fields)
        assert cls.label and cls.__doc__
        assert {"schema", "timeout"} <= set(cls.config_form.base_fields)


@pytest.mark.parametrize("type_", sorted(DESIGN_TYPES))
@pytest.mark.parametrize("schema", ["native", "ocsf"])
def test_every_event_once_in_order_within_limits(type_, schema):
    conn = build(type_, schema=schema)
    many = [dict(EVENTS[i % len(EVENTS)], id=str(uuid.UUID(int=i + 1))) for i in range(2 * conn.limits.max_events + 3)]
    requests = conn.build_requests(many)
    assert [eid for r in requests for eid in r.event_ids] == [e["id"] for e in many]
    for request in requests:
        assert len(request.event_ids) <= conn.limits.max_events
        payload = b"".join(request.frames) if request.frames else request.body
        if request.headers.get("Content-Encoding") == "gzip":
            payload = gzip.decompress(payload)
        if len(request.event_ids) > 1:
            assert len(payload) <= conn.limits.max_bytes


@pytest.mark.parametrize("type_", sorted(DESIGN_TYPES))
def test_secrets_stay_in_their_place(type_):
    conn = build(type_)
    [request] = conn.build_requests(EVENTS[:1])
    body = request.body if not request.frames else b"".join(request.frames)
    if request.headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    assert SECRET.encode() not in body
    assert SECRET not in repr(conn)
    if type_ != "sumo":  # the Sumo source URL is the credential itself
        assert SECRET not in request.url


@pytest.mark.parametrize("type_", sorted(DESIGN_TYPES))
def test_every_shape_reaches_the_wire(type_):
    conn = build(type_)
    requests = conn.build_requests(EVENTS)
    wire = b"".join((b"".join(r.frames) if r.frames else (gzip.decompress(r.body)
                     if r.headers.get("Content-Encoding") == "gzip" else r.body)) for r in requests)
    for event in EVENTS:  # envelope, flat and canonical inputs: each id is on the wire
        assert event["id"].encode() in wire
