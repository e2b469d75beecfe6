"""Pure engine pieces: input normalization, routing filters, retry backoff."""

from __future__ import annotations

import random

import pytest

from delivery.filters import event_matches, explain_mismatch, validate_filters
from delivery.normalize import EventValidationError, normalize, normalize_many
from delivery.retry import backoff_seconds


def test_three_shapes_normalize_to_the_canonical_event():
    env = normalize({"event": "finding.new", "timestamp": "2026-01-02T03:04:05Z",
                     "data": {"severity": "HIGH", "asset": {"id": "a1", "name": "web", "tags": ["prod"]}, "org_id": "acme"}})
    assert env["type"] == "finding.new" and env["severity"] == "high" and env["org_id"] == "acme"
    assert env["timestamp"] == "2026-01-02T03:04:05.000000Z" and env["asset"]["tags"] == ["prod"]
    flat = normalize({"event_type": "transaction.denied", "timestamp": "2026-01-02T05:04:05+02:00", "subject": "bob",
                      "severity": "medium"})
    assert flat["type"] == "transaction.denied" and flat["data"] == {"subject": "bob"}
    assert flat["timestamp"] == "2026-01-02T03:04:05.000000Z" and flat["severity"] == "medium"
    canon = normalize({"id": "6F1C1E0E-1D2B-4D6E-9A4E-0A0B0C0D0E0F", "type": "scan.completed", "data": {"n": 1}})
    assert canon["id"] == "6f1c1e0e-1d2b-4d6e-9a4e-0a0b0c0d0e0f" and canon["severity"] == "info"


def test_every_problem_is_reported_with_index_and_field():
    with pytest.raises(EventValidationError) as err:
        normalize_many([{"event": "ok.type"}, "nope", {"type": "a b"}, {"event": "x", "id": "not-a-uuid",
                        "timestamp": 5, "data": {"severity": "urgent"}}, {"event": "x", "data": []},
                        {"type": "x", "extra": 1}, {"event": "x", "asset": {"tags": "prod"}}])
    got = {(p["index"], p["field"]) for p in err.value.problems}
    assert got == {(1, "event"), (2, "type"), (3, "id"), (3, "timestamp"), (3, "severity"), (4, "data"),
                   (5, "extra"), (6, "asset.tags")}


def test_filters_wildcards_severity_tags_exclude():
    event = {"type": "finding.sla.breached", "severity": "high", "asset": {"tags": ["prod", "pci"]}}
    assert event_matches({}, event)
    assert event_matches({"events": ["finding.*"]}, event)
    assert not event_matches({"events": ["finding.new"]}, event)
    assert not event_matches({"events": ["finding.*"], "exclude": ["finding.sla.*"]}, event)
    assert event_matches({"min_severity": "high"}, event)
    assert not event_matches({"min_severity": "critical"}, event)
    assert event_matches({"asset_tags": ["pci"]}, event)
    assert not event_matches({"asset_tags": ["dev"]}, event)
    assert not event_matches({"asset_tags": ["dev"]}, {"type": "x", "severity": "info", "asset": None})
    assert "below critical" in explain_mismatch({"min_severity": "critical"}, event)


def test_filter_validation_names_each_bad_key():
    clean, errors = validate_filters({"events": "finding.*, auth.login.failed", "min_severity": "urgent",
                                      "asset_tags": [1], "bogus": True, "exclude": ["a b"]})
    assert clean == {"events": ["finding.*", "auth.login.failed"]}
    assert set(errors) == {"filters.min_severity", "filters.asset_tags", "filters.bogus", "filters.exclude"}


def test_backoff_doubles_with_jitter_caps_and_honours_retry_after():
    rng = random.Random(7)
    delays = [backoff_seconds(n, rng=rng) for n in range(1, 12)]
    assert 0.5 <= delays[0] <= 1.0 and 1.0 <= delays[1] <= 2.0 and 4.0 <= delays[3] <= 8.0
    assert all(150 <= d <= 300 for d in delays[9:])
    assert backoff_seconds(1, retry_after=30, rng=rng) == 30
    assert backoff_seconds(1, retry_after=10**9, rng=rng) == 3600
