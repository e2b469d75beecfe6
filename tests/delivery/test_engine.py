"""The delivery engine against a strict local HEC receiver (SQLite lease or Postgres lock)."""

from __future__ import annotations

import json
import uuid

import pytest

from delivery import emit
from delivery.models import DeadLetter, Delivery, DeliveryAttempt, Event, Sender
from delivery.sender import integration_drain, integration_send_test
from integrations.models import Integration
from tests.conftest import HEC_TOKEN, make_integration
from tests.receivers.base import Reply

pytestmark = pytest.mark.django_db(transaction=True)


def finding(n, **extra):
    return {"event": "finding.new", "timestamp": f"2026-01-01T00:00:{n % 60:02d}Z",
            "data": {"title": f"finding {n}", "severity": "high", **extra}}


def test_emitted_events_arrive_in_order_exactly_once(hec, splunk_integration, settings):
    settings.SIEMHUB_BATCH_MAX_EVENTS = 7
    ids = emit([finding(i) for i in range(20)])
    assert Delivery.objects.count() == 20
    assert integration_drain(str(splunk_integration.pk)) == 20
    assert hec.event_ids() == ids
    assert Delivery.objects.count() == 0
    assert len(hec.received) == 3  # 7 + 7 + 6
    first = hec.events[0]
    assert first["index"] == "security" and first["sourcetype"] == "_json"
    assert first["event"]["event"] == "finding.new" and first["event"]["severity"] == "high"
    integ = Integration.objects.get(pk=splunk_integration.pk)
    assert integ.status == "success" and integ.error_count == 0 and integ.last_event_at is not None
    assert DeliveryAttempt.objects.filter(integration=integ, outcome="ok").count() == 3


def test_same_id_twice_is_stored_and_sent_once(hec, splunk_integration):
    event_id = str(uuid.uuid4())
    emit({**finding(1), "id": event_id})
    emit({**finding(1), "id": event_id})
    assert Event.objects.count() == 1 and Delivery.objects.count() == 1
    integration_drain(str(splunk_integration.pk))
    assert hec.event_ids() == [event_id]


def test_503_then_recovery_delivers_everything_in_order(hec, splunk_integration, settings):
    settings.SIEMHUB_BACKOFF_INITIAL_S = 0.0
    answers = iter([Reply(503, b'{"text":"Server is busy","code":9}')] * 2)
    hec.responder = lambda req: next(answers, None)
    ids = emit([finding(i) for i in range(5)])
    integration_drain(str(splunk_integration.pk))  # 503: backoff (0 s here)
    integ = Integration.objects.get(pk=splunk_integration.pk)
    assert integ.status == "error" and integ.error_count == 1
    assert "Server is busy" in integ.last_error
    Sender.objects.update(backoff_until=None)
    integration_drain(str(splunk_integration.pk))
    Sender.objects.update(backoff_until=None)
    integration_drain(str(splunk_integration.pk))
    assert hec.event_ids() == ids
    integ.refresh_from_db()
    assert integ.status == "success" and integ.error_count == 0 and integ.last_error == ""


def test_poison_event_is_isolated_by_bisection(hec, splunk_integration, dead_letter_path):
    def reject_poison(req):
        if b"POISON" in req.body:
            return Reply(400, b'{"text":"Invalid data format","code":6,"invalid-event-number":1}')
        return None

    hec.responder = reject_poison
    ids = emit([finding(i, note="POISON" if i == 5 else "ok") for i in range(8)])
    integration_drain(str(splunk_integration.pk))
    assert hec.event_ids() == [i for n, i in enumerate(ids) if n != 5]
    [dead] = DeadLetter.objects.all()
    assert str(dead.event_id) == ids[5] and "Invalid data format" in dead.error
    line = json.loads(dead_letter_path.read_text().splitlines()[0])
    assert set(line) == {"timestamp", "connector", "integration_id", "error", "event"}
    assert line["connector"] == "splunk" and line["event"]["id"] == ids[5]
    assert Delivery.objects.count() == 0


def test_dead_letter_after_max_attempts_and_replay(hec, splunk_integration, settings, dead_letter_path):
    from delivery.deadletter import dead_letter_replay

    settings.SIEMHUB_MAX_ATTEMPTS = 2
    hec.responder = lambda req: Reply(503, b'{"text":"Server is busy","code":9}')
    [event_id] = emit(finding(1))
    for _ in range(2):
        Sender.objects.update(backoff_until=None)
        integration_drain(str(splunk_integration.pk))
    assert Delivery.objects.count() == 0
    dead = DeadLetter.objects.get()
    assert dead.attempts == 2 and "gave up after 2 attempts" in dead.error
    hec.responder = None
    Sender.objects.update(backoff_until=None)
    assert dead_letter_replay(ids=[dead.pk]) == 1
    integration_drain(str(splunk_integration.pk))
    assert hec.event_ids() == [event_id]
    dead.refresh_from_db()
    assert dead.replayed_at is not None


def test_filters_route_only_matching_events(hec, db):
    integ = make_integration("splunk", config={"endpoint": hec.url}, secrets={"token": HEC_TOKEN},
                             filters={"events": ["finding.*"], "min_severity": "high", "exclude": ["finding.resolved"]})
    emit([finding(1), {"event": "finding.resolved", "data": {"severity": "critical"}},
          {"event": "finding.new", "data": {"severity": "low"}}, {"type": "scan.completed", "severity": "critical"}])
    assert Delivery.objects.filter(integration=integ).count() == 1


def test_test_button_decodes_invalid_token(hec, db):
    integ = make_integration("splunk", config={"endpoint": hec.url}, secrets={"token": "wrong-token-value"})
    ok, message = integration_send_test(integ)
    assert not ok
    assert "Invalid token" in message and "code 4" in message.lower().replace("error ", "code ")
    assert "wrong-token-value" not in message
    integ.refresh_from_db()
    assert integ.status == "error" and "wrong-token-value" not in integ.last_error
    good = make_integration("splunk", config={"endpoint": hec.url, "index": "nope"}, secrets={"token": HEC_TOKEN})
    ok, message = integration_send_test(good)
    assert not ok and "Incorrect index" in message and "'nope'" in message
