"""Shared fixtures for the whole suite."""

from __future__ import annotations

import pytest

from tests.receivers.splunk import HecReceiver

HEC_TOKEN = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
def hec():
    with HecReceiver(token=HEC_TOKEN) as receiver:
        yield receiver


@pytest.fixture
def dead_letter_path(tmp_path, settings):
    path = tmp_path / "dead-letters.jsonl"
    settings.SIEM_DEAD_LETTER_PATH = str(path)
    return path


def make_integration(integration_type="splunk", *, config=None, secrets=None, filters=None, name=None, enabled=True):
    from integrations.models import Integration

    integration = Integration(
        integration_type=integration_type, name=name or f"{integration_type} test", config=config or {},
        filters=filters or {}, enabled=enabled,
    )
    integration.set_secrets(secrets or {})
    integration.save()
    return integration


@pytest.fixture
def splunk_integration(hec, db):
    return make_integration(
        "splunk", config={"endpoint": hec.url, "index": "security", "sourcetype": "_json"}, secrets={"token": HEC_TOKEN}
    )
