"""Engine behaviour beyond the peers: 413 bisection, per-item bulk outcomes, formatting poison."""

from __future__ import annotations

import pytest

from delivery import emit
from delivery.connectors.splunk import SplunkConnector
from delivery.models import DeadLetter, Delivery, Sender
from delivery.sender import integration_drain
from tests.conftest import make_integration
from tests.receivers.base import Reply
from tests.receivers.elastic import ElasticReceiver

pytestmark = pytest.mark.django_db(transaction=True)


def test_413_splits_in_halves_down_to_the_single_oversized_event(hec, splunk_integration, dead_letter_path):
    hec.responder = lambda req: Reply(413, b"") if len(req.body) > 20_000 else None
    events = [{"event": "finding.new", "data": {"n": i, "blob": ("B" * 30_000 if i == 6 else "s")}} for i in range(10)]
    ids = emit(events)
    integration_drain(str(splunk_integration.pk))
    assert hec.event_ids() == [i for n, i in enumerate(ids) if n != 6]
    [dead] = DeadLetter.objects.all()
    assert str(dead.event_id) == ids[6] and "too large" in dead.error
    assert Delivery.objects.count() == 0


def test_bulk_items_retry_only_what_failed_and_409_counts_as_delivered(db, settings, dead_letter_path):
    with ElasticReceiver(basic=("elastic", "changeme")) as es:
        integ = make_integration("elastic", config={"url": es.url, "username": "elastic"},
                                 secrets={"password": "changeme"})
        ids = emit([{"event": "finding.new", "data": {"n": i}} for i in range(4)])
        es.item_status = {ids[1]: (429, "es_rejected_execution_exception", "queue full"),
                          ids[2]: (400, "mapper_parsing_exception", "failed to parse field [n]")}
        es.docs[("siemhub-events", ids[3])] = {"already": True}  # create → 409: already indexed
        integration_drain(str(integ.pk))
        assert {k[1] for k in es.docs} == {ids[0], ids[3]}
        [dead] = DeadLetter.objects.all()
        assert str(dead.event_id) == ids[2] and "failed to parse field" in dead.error
        [pending] = Delivery.objects.all()
        assert str(pending.event_id) == ids[1] and pending.attempts == 1
        es.item_status = {}
        Sender.objects.update(backoff_until=None)
        integration_drain(str(integ.pk))
        assert {k[1] for k in es.docs} == {ids[0], ids[1], ids[3]}
        assert Delivery.objects.count() == 0


def test_an_event_the_connector_cannot_format_is_dead_lettered_alone(hec, splunk_integration, monkeypatch,
                                                                     dead_letter_path):
    original = SplunkConnector._envelope

    def fragile(self, event):
        if event["data"].get("bad"):
            raise ValueError("cannot format")
        return original(self, event)

    monkeypatch.setattr(SplunkConnector, "_envelope", fragile)
    ids = emit([{"event": "finding.new", "data": {"bad": i == 2}} for i in range(5)])
    integration_drain(str(splunk_integration.pk))
    assert hec.event_ids() == [i for n, i in enumerate(ids) if n != 2]
    assert [str(d.event_id) for d in DeadLetter.objects.all()] == [ids[2]]


def test_disabled_integration_keeps_events_until_enabled(hec, splunk_integration):
    from integrations.models import Integration

    Integration.objects.filter(pk=splunk_integration.pk).update(enabled=False)
    emit({"event": "finding.new", "data": {}})  # not routed: disabled at ingest
    Integration.objects.filter(pk=splunk_integration.pk).update(enabled=True)
    [event_id] = emit({"event": "finding.new", "data": {"n": 1}})
    Integration.objects.filter(pk=splunk_integration.pk).update(enabled=False)
    assert integration_drain(str(splunk_integration.pk)) == 0 and Delivery.objects.count() == 1
    Integration.objects.filter(pk=splunk_integration.pk).update(enabled=True)
    integration_drain(str(splunk_integration.pk))
    assert hec.event_ids() == [event_id]
