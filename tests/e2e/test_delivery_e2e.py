"""End to end: the ingest API, real PostgreSQL, real Redis, real Celery workers, local receivers.

Each test drives siemhub the way production runs it: events are POSTed to ``/v1/events`` with an
API key, the commit kicks a ``deliver_integration`` task through Redis, and a
``celery -A siemhub worker`` subprocess (sometimes two, sometimes with ``celery beat``) delivers
to a strict receiver on 127.0.0.1. The tests then check the promises of DESIGN.md §5 from the
receiver's side: what arrived, in which order, how often, with which bytes and headers.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from datetime import datetime

import pytest
from django.test import Client

from tests.e2e.worker import E2E, RedisMonitor, RedisServer, e2e, producer_broker, redis_client  # noqa: F401
from tests.receivers.base import Recorded, Reply
from tests.receivers.splunk import HecReceiver, parse_concatenated
from tests.receivers.webhook import WebhookReceiver, hmac_sha256_header, standard_webhooks_key, \
    standard_webhooks_signature

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HEC_TOKEN = "5f0b6c1e-e2e0-4c3a-9d7e-1a2b3c4d5e6f"
HMAC_SECRET = "e2e-hmac-secret-Zq8vN1xW"
WHSEC = "whsec_" + base64.b64encode(b"e2e standard webhooks key 32byt").decode()
FINDINGS_ONLY = {"events": ["finding.*"]}
BUSY = Reply(503, b'{"text":"Server is busy","code":9}')


# --- helpers -------------------------------------------------------------------------------

class Api:
    """The REST API through Django's test client, authenticated with an API key."""

    def __init__(self, key: str) -> None:
        self.client = Client()
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
        self.responses: list[bytes] = []  # every answer body, for the secret search

    def _record(self, resp):
        self.responses.append(resp.content)
        return resp

    def get(self, path: str):
        return self._record(self.client.get(path, **self.auth))

    def post(self, path: str, data=None):
        body = json.dumps(data) if data is not None else ""
        return self._record(self.client.post(path, data=body, content_type="application/json", **self.auth))

    def patch(self, path: str, data):
        return self._record(self.client.patch(path, data=json.dumps(data), content_type="application/json",
                                              **self.auth))

    def create_integration(self, integration_type: str, config: dict, *, filters=None, name=None) -> str:
        resp = self.post("/v1/settings/siem", {"integration_type": integration_type, "name": name or integration_type,
                                               "config": config, "filters": filters or {}})
        assert resp.status_code == 201, resp.content
        return resp.json()["id"]

    def ingest(self, events) -> list[str]:
        resp = self.post("/v1/events", events)
        assert resp.status_code == 202, resp.content
        body = resp.json()
        assert body["accepted"] == (len(events) if isinstance(events, list) else 1)
        return body["ids"]

    def integration(self, pk: str) -> dict:
        resp = self.get(f"/v1/settings/siem/{pk}")
        assert resp.status_code == 200, resp.content
        return resp.json()


@pytest.fixture
def api(transactional_db) -> Api:
    from django.contrib.auth.models import Group, User

    from integrations.roles import ensure_roles
    from integrations.services import api_key_create

    ensure_roles()
    user = User.objects.create_user("e2e-admin", password="e2e-admin-password-1")
    user.groups.add(Group.objects.get(name="SIEM admins"))
    _, key = api_key_create(actor=None, user=user, name="e2e")
    return Api(key)


def finding(n: int, marker: str = "", **data) -> dict:
    return {"event": "finding.new", "timestamp": f"2026-03-01T12:{n // 60 % 60:02d}:{n % 60:02d}Z",
            "data": {"title": f"finding {n} {marker}".strip(), "severity": "high", "n": n, **data}}


def hec_splunk(hec: HecReceiver, **config) -> dict:
    return {"endpoint": hec.url, "token": HEC_TOKEN, "index": "security", **config}


def request_ids(rec: Recorded) -> list[str]:
    return [env["event"]["id"] for env in parse_concatenated(rec.body)]


def duplicates(ids: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for i in ids:
        counts[i] = counts.get(i, 0) + 1
    return {i: n for i, n in counts.items() if n > 1}


def expected_request(integration_id: str, ids: list[str]):
    """What the integration's connector builds for these stored events (one request)."""
    from delivery.connectors import get_connector
    from delivery.models import Event
    from integrations.models import Integration

    integration = Integration.objects.get(pk=integration_id)
    stored = {str(e.pk): e.as_dict() for e in Event.objects.filter(pk__in=ids)}
    connector_class = get_connector(integration.integration_type)
    connector = connector_class(config=integration.config, secrets=integration.get_secrets())
    [request] = connector.build_requests([stored[i] for i in ids])
    return request


def stored_events(ids: list[str]) -> list[dict]:
    from delivery.models import Event

    stored = {str(e.pk): e.as_dict() for e in Event.objects.filter(pk__in=ids)}
    return [stored[i] for i in ids]


def compact(value) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def native(event: dict) -> dict:
    """DESIGN.md §3's native schema, written out here independently of delivery.formats."""
    out = {"id": event["id"], "event": event["type"], "timestamp": event["timestamp"],
           "severity": event["severity"]}
    out.update({k: event[k] for k in ("org_id", "asset") if event.get(k)})
    out["data"] = event["data"]
    return out


def hec_envelope(event: dict, index: str) -> bytes:
    """WIRE-FORMATS.md §1: time as epoch seconds with milliseconds, then the metadata, then the event."""
    when = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
    ms = int(when.replace(microsecond=0).timestamp()) * 1000 + when.microsecond // 1000  # truncated, no float
    return (b'{"time":' + f"{ms // 1000}.{ms % 1000:03d}".encode() + b',"sourcetype":"_json","index":'
            + compact(index) + b',"event":' + compact(native(event)) + b"}")


class Timeline:
    """Arrival times of requests at a receiver, as a responder that answers from a script."""

    def __init__(self, script=None) -> None:
        self.times: list[float] = []
        self.answers: list[int] = []
        self.script = script or (lambda n, rec: None)
        self.lock = threading.Lock()

    def __call__(self, rec: Recorded):
        with self.lock:
            n = len(self.times)
            self.times.append(time.monotonic())
        reply = self.script(n, rec)
        with self.lock:
            self.answers.append(reply.status if reply else 200)
        return reply


# --- 1. exact bytes, headers and signatures -------------------------------------------------

def test_api_event_reaches_hec_and_webhooks_with_exact_bytes_and_valid_signatures(e2e: E2E, api: Api):
    with HecReceiver(token=HEC_TOKEN) as hec, \
            WebhookReceiver(scheme="hmac-sha256", secret=HMAC_SECRET) as hooks, \
            WebhookReceiver(scheme="standard-webhooks", secret=WHSEC) as std_hooks:
        e2e.start_worker()
        splunk_id = api.create_integration("splunk", hec_splunk(hec), filters=FINDINGS_ONLY)
        hmac_id = api.create_integration("webhook", {"endpoint": hooks.url + "/siem", "secret": HMAC_SECRET},
                                         filters=FINDINGS_ONLY, name="hmac hook")
        std_id = api.create_integration("webhook", {"endpoint": std_hooks.url + "/siem", "secret": WHSEC,
                                                    "signature": "standard-webhooks"},
                                        filters=FINDINGS_ONLY, name="std hook")

        ids = api.ingest(finding(1, "ünïcödé \"quoted\" \\ back\nslash"))
        ids += api.ingest([finding(2), {"event_type": "finding.updated", "timestamp": "2026-03-01T12:00:03+02:00",
                                        "subject": "bob", "severity": "critical"},
                           {"id": str(uuid.uuid4()), "type": "finding.resolved", "severity": "low",
                            "timestamp": "2026-03-01T12:00:04Z", "asset": {"id": "a1", "name": "web-1",
                                                                          "type": "host", "tags": ["prod"]},
                            "data": {"n": 4}}])
        ids += api.ingest({"event": "scan.completed", "data": {"note": "filtered out by every integration"}})
        wanted = ids[:4]
        for receiver in (hec, hooks, std_hooks):
            e2e.wait_until(lambda r=receiver: len(r.event_ids()) >= 4, f"4 events reached {receiver.url}")
        time.sleep(0.3)  # anything extra (a duplicate, the filtered event) would show up by now

        assert hec.event_ids() == wanted
        assert hooks.event_ids() == wanted and std_hooks.event_ids() == wanted
        assert not hooks.rejected and not std_hooks.rejected, "a webhook signature did not verify"

        for rec in hec.accepted:
            sent = request_ids(rec)
            expected = expected_request(splunk_id, sent)
            assert rec.raw_body == expected.body  # exact bytes
            # ... and those bytes are the documented wire format, rebuilt here from the stored events.
            assert rec.raw_body == b"\n".join(hec_envelope(e, "security") for e in stored_events(sent))
            assert rec.path == "/services/collector/event"
            assert rec.headers["authorization"] == f"Splunk {HEC_TOKEN}"
            assert rec.headers["content-type"] == "application/json"
        for rec in hooks.accepted:
            sent = [e["id"] for e in json.loads(rec.body)]
            expected = expected_request(hmac_id, sent)
            assert rec.raw_body == expected.body and rec.path == "/siem"
            assert rec.raw_body == b"[" + b",".join(compact(native(e)) for e in stored_events(sent)) + b"]"
            assert rec.headers["content-type"] == "application/json"
            assert rec.headers["x-siemhub-signature"] == hmac_sha256_header(HMAC_SECRET, rec.raw_body)
            assert rec.headers["webhook-id"] == (sent[0] if len(sent) == 1 else expected.headers["webhook-id"])
        for rec in std_hooks.accepted:
            sent = [e["id"] for e in json.loads(rec.body)]
            assert rec.raw_body == expected_request(std_id, sent).body
            msg_id, ts = rec.headers["webhook-id"], rec.headers["webhook-timestamp"]
            assert abs(int(ts) - time.time()) < 120
            assert standard_webhooks_signature(standard_webhooks_key(WHSEC), msg_id, ts, rec.raw_body) in \
                rec.headers["webhook-signature"].split(" ")

        first = json.loads(hooks.accepted[0].body)[0]
        assert first["event"] == "finding.new" and first["data"]["title"].startswith("finding 1 ünïcödé")
        for pk in (splunk_id, hmac_id, std_id):
            state = api.integration(pk)
            assert state["status"] == "success" and state["error_count"] == 0 and state["last_event_at"]


# --- 2. an outage at the SIEM ----------------------------------------------------------------

FAST_RETRY = {"SIEMHUB_BACKOFF_INITIAL_S": "0.2", "SIEMHUB_BACKOFF_MAX_S": "1"}


def test_receiver_503_outage_then_recovery_delivers_everything_in_order_once(e2e: E2E, api: Api):
    from delivery.models import DeadLetter

    outage_s = 2.5
    started: list[float] = []

    def outage(n, rec):
        if not started:
            started.append(time.monotonic())
        return BUSY if time.monotonic() - started[0] < outage_s else None

    timeline = Timeline(outage)
    with HecReceiver(token=HEC_TOKEN, responder=timeline) as hec:
        pk = api.create_integration("splunk", hec_splunk(hec), filters=FINDINGS_ONLY)
        e2e.start_worker(SIEMHUB_MAX_ATTEMPTS="100", **FAST_RETRY)
        e2e.start_beat()
        ids = api.ingest([finding(i) for i in range(10)])
        e2e.wait_until(lambda: timeline.answers.count(503) >= 1, "the receiver refused a batch")
        for batch in range(1, 4):  # more events while the SIEM is down
            ids += api.ingest([finding(batch * 10 + i) for i in range(10)])
            time.sleep(0.4)
        e2e.wait_until(lambda: len(hec.events) >= len(ids), "every event arrived", timeout=30)
        ids += api.ingest([finding(100 + i) for i in range(5)])  # and after the recovery
        e2e.wait_until(lambda: len(hec.events) >= len(ids), "the last events arrived")
        time.sleep(0.5)

        assert hec.event_ids() == ids  # all of them, in order, none twice
        assert timeline.answers.count(503) >= 3, timeline.answers  # several retries during the outage
        assert DeadLetter.objects.count() == 0
        e2e.wait_until(lambda: api.integration(pk)["status"] == "success", "the status went back to success")
        state = api.integration(pk)
        assert state["status"] == "success" and state["error_count"] == 0 and state["last_error"] == ""


# --- 3. rate limiting and a refused batch ----------------------------------------------------

def test_429_retry_after_is_honoured(e2e: E2E, api: Api):
    retry_after = 2.0

    def limit_first(n, rec):
        if n == 0:
            return Reply(429, b'{"text":"Too many requests"}', {"Retry-After": f"{retry_after:g}"})
        return None

    timeline = Timeline(limit_first)
    with HecReceiver(token=HEC_TOKEN, responder=timeline) as hec:
        pk = api.create_integration("splunk", hec_splunk(hec), filters=FINDINGS_ONLY)
        # Backoff capped at 1 s and a sweep every second: only Retry-After can make the sender wait 2 s.
        e2e.start_worker(**FAST_RETRY)
        e2e.start_beat()
        ids = api.ingest([finding(i) for i in range(10)])
        e2e.wait_until(lambda: len(hec.events) >= 10, "the events arrived after the 429")

        assert timeline.answers[0] == 429 and timeline.answers[1] == 200
        gap = timeline.times[1] - timeline.times[0]
        assert gap >= retry_after, f"resent {gap:.2f} s after a 429 with Retry-After: {retry_after:g}"
        assert gap < retry_after + 5
        assert hec.event_ids() == ids
        # The receiver answers before the worker commits its attempt row: wait for the record.
        e2e.wait_until(lambda: len(api.get(f"/v1/settings/siem/{pk}/deliveries").json()) >= 2,
                       "the 200 attempt was recorded")
        log = api.get(f"/v1/settings/siem/{pk}/deliveries").json()
        assert [a["status_code"] for a in log][-2:] == [200, 429]  # newest first


def test_400_for_one_batch_does_not_block_the_events_behind_it(e2e: E2E, api: Api):
    from delivery.models import DeadLetter

    def refuse_poison(rec):
        if b"POISON" in rec.body:
            return Reply(400, b'{"text":"Invalid data format","code":6,"invalid-event-number":0}')
        return None

    with HecReceiver(token=HEC_TOKEN, responder=refuse_poison) as hec:
        pk = api.create_integration("splunk", hec_splunk(hec), filters=FINDINGS_ONLY)
        ids = api.ingest([finding(i, "POISON" if i == 3 else "") for i in range(12)])
        e2e.start_worker(SIEMHUB_BATCH_MAX_EVENTS="5")
        good = [i for n, i in enumerate(ids) if n != 3]
        e2e.wait_until(lambda: len(hec.events) >= len(good), "every good event arrived")
        ids2 = api.ingest([finding(20 + i) for i in range(3)])
        e2e.wait_until(lambda: len(hec.events) >= len(good) + 3, "the events behind the poison arrived")

        assert hec.event_ids() == good + ids2
        assert any(b"POISON" in r.body and len(request_ids(r)) == 5 for r in hec.received), \
            "the first batch was not refused whole"
        [dead] = DeadLetter.objects.all()
        assert str(dead.event_id) == ids[3] and "Invalid data format" in dead.error
        listed = api.get(f"/v1/settings/siem/dead-letters?integration_id={pk}").content.decode()
        assert ids[3] in listed
        # The receiver answers before the worker commits the outcome: wait for the status.
        e2e.wait_until(lambda: api.integration(pk)["status"] == "success", "the status went back to success")


# --- 4. a worker killed in the middle of a batch --------------------------------------------

def test_worker_killed_mid_batch_resends_at_most_that_batch(e2e: E2E, api: Api):
    batch = 10
    in_flight = threading.Event()
    release = threading.Event()
    held: list[list[str]] = []

    def slow_second_request(n, rec):
        if n == 1:  # the second batch: hold it until the worker is dead
            held.append(request_ids(rec))
            in_flight.set()
            release.wait(20)
        return None

    with HecReceiver(token=HEC_TOKEN, responder=Timeline(slow_second_request)) as hec:
        api.create_integration("splunk", hec_splunk(hec), filters=FINDINGS_ONLY)
        ids = api.ingest([finding(i) for i in range(5 * batch)])
        worker = e2e.start_worker(SIEMHUB_BATCH_MAX_EVENTS=str(batch))
        e2e.wait_until(in_flight.is_set, "the second batch is in flight", timeout=30)
        time.sleep(0.2)
        worker.kill()  # SIGKILL to the whole process group, mid-request
        assert not worker.alive()
        release.set()  # the SIEM still indexes what it had received: the worker never learns it

        e2e.start_worker("worker-restarted", SIEMHUB_BATCH_MAX_EVENTS=str(batch))
        e2e.start_beat()  # the killed worker's task message stays unacked: the sweep re-kicks
        e2e.wait_until(lambda: set(hec.event_ids()) >= set(ids), "every event arrived after the restart",
                       timeout=40)
        time.sleep(0.5)

        received = hec.event_ids()
        dupes = duplicates(received)
        assert set(received) == set(ids)
        assert set(dupes) <= set(held[0]), "something other than the in-flight batch was sent twice"
        assert len(dupes) <= batch and all(n == 2 for n in dupes.values())
        # And the in-flight batch was indeed sent again: had the SIEM lost it, nothing would be lost.
        assert set(dupes) == set(held[0])
        first_seen = list(dict.fromkeys(received))
        assert first_seen == ids  # order kept across the crash


# --- 5. the broker down while events are ingested ------------------------------------------

def wait_between_tasks(e2e: E2E, worker) -> None:
    """Return just after the worker finished (and acked) a task, so none is in progress."""
    done = worker.log().count(" succeeded in ")
    e2e.wait_until(lambda: worker.log().count(" succeeded in ") > done, f"{worker.name} finishes a task")
    time.sleep(0.3)


def test_broker_outage_api_still_accepts_and_events_are_delivered_after(e2e: E2E, api: Api, tmp_path):
    from delivery.models import Delivery, Event

    redis = RedisServer(tmp_path / "redis").start()
    try:
        with producer_broker(redis.url):
            e2e.broker_url = redis.url
            with HecReceiver(token=HEC_TOKEN) as hec:
                pk = api.create_integration("splunk", hec_splunk(hec), filters=FINDINGS_ONLY)
                worker = e2e.start_worker()
                e2e.start_beat()
                ids = api.ingest([finding(i) for i in range(5)])
                e2e.wait_until(lambda: len(hec.events) >= 5, "delivery works before the outage")

                # Stop Redis between two tasks. (Stopped while the worker acks a task, Celery 5.7 /
                # kombu 5.7 die with "Unrecoverable error: AttributeError ... 'hostname'": the
                # worker then needs its supervisor to restart it. That is Celery's bug, not what
                # this test is about.)
                wait_between_tasks(e2e, worker)
                redis.stop()
                outage_ids: list[str] = []
                for n in range(4):
                    t0 = time.monotonic()
                    outage_ids += api.ingest([finding(10 + n * 5 + i) for i in range(5)])
                    took = time.monotonic() - t0
                    assert took < 5, f"the API took {took:.1f} s to answer with the broker down"
                assert Event.objects.filter(pk__in=outage_ids).count() == 20  # durable before the 202
                assert Delivery.objects.filter(integration_id=pk).count() == 20
                time.sleep(2)
                assert len(hec.events) == 5  # nothing moved while the broker was away

                redis.start()  # same port, and empty: the kicks sent before the outage are gone too
                e2e.wait_until(lambda: len(hec.events) >= 25, "the backlog is delivered once Redis is back",
                               timeout=60)
                time.sleep(0.5)
                assert hec.event_ids() == ids + outage_ids
                assert Delivery.objects.filter(integration_id=pk).count() == 0
                assert worker.alive(), "the worker did not survive the broker outage"
    finally:
        e2e.stop_all()
        redis.stop()


# --- 6. two workers, one integration --------------------------------------------------------

def test_two_workers_never_send_the_same_batch_twice(e2e: E2E, api: Api):
    from delivery.signals import kick

    state = {"inflight": 0, "max": 0}
    lock = threading.Lock()

    def slow(rec):
        with lock:
            state["inflight"] += 1
            state["max"] = max(state["max"], state["inflight"])
        time.sleep(0.01)
        with lock:
            state["inflight"] -= 1
        return None

    with HecReceiver(token=HEC_TOKEN, responder=slow) as hec:
        pk = api.create_integration("splunk", hec_splunk(hec), filters=FINDINGS_ONLY)
        a = e2e.start_worker("worker-a", SIEMHUB_BATCH_MAX_EVENTS="5")
        b = e2e.start_worker("worker-b", SIEMHUB_BATCH_MAX_EVENTS="5")
        ids: list[str] = []
        for n in range(40):  # 40 commits, 40 kicks
            ids += api.ingest([finding(n * 5 + i) for i in range(5)])
            if n % 4 == 0:
                kick([pk] * 10)  # and a storm of extra kicks
        e2e.wait_until(lambda: len(hec.events) >= len(ids), "every event arrived", timeout=60)
        time.sleep(0.5)

        received = hec.event_ids()
        assert duplicates(received) == {}
        assert received == ids
        assert state["max"] == 1, "two requests for one integration were in flight at once"
        for worker in (a, b):
            assert "delivery.deliver_integration" in worker.log(), f"{worker.name} got no task"
        for worker in (a, b):  # both took turns at sending: the lock, not luck, kept them apart
            assert " delivered, " in worker.log(), f"{worker.name} never sent a batch"


# --- 7. secrets never leak ------------------------------------------------------------------

SECRETS = {
    "hec_token": "7d3e9a41-5ec7-4e1f-8b2a-c0ffee5ec4e7",
    "hmac": "Hm4c-S3cret-e2e-NotInLogs",
    "password": "B4sic-Passw0rd-e2e",
    "header": "Hdr-T0ken-e2e-9f8e7d",
}


def test_no_secret_in_api_audit_last_error_logs_or_celery_messages(e2e: E2E, api: Api):
    import io
    import logging

    from delivery.models import DeadLetter, Delivery, DeliveryAttempt
    from integrations.models import AuditEntry, Integration

    basic = base64.b64encode(f"siem-user:{SECRETS['password']}".encode()).decode()
    # Whole values, and their first 12 characters: a secret cut in half by truncation still leaks.
    needles = set(SECRETS.values()) | {v[:12] for v in SECRETS.values()}

    def echo_everything(rec):  # a hostile receiver: echoes back the credential it got, in several shapes
        token = rec.headers.get("authorization", "")[len("Splunk "):]
        return Reply(503, json.dumps({"error": f"unavailable for token {token}", "auth": token,
                                      "headers": rec.headers}).encode())

    # What this process logs through the configured handler (with its redacting filter).
    from siemhub.logging import RedactingFilter

    console = next(h for h in logging.getLogger().handlers
                   if isinstance(h, logging.StreamHandler) and any(isinstance(f, RedactingFilter) for f in h.filters))
    captured = io.StringIO()
    old_stream = console.setStream(captured)
    old_level = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        hook_refusals = []

        def refuse_twice(rec):  # then verify and accept, as a strict receiver does
            if len(hook_refusals) < 2:
                hook_refusals.append(rec)
                return Reply(401, json.dumps({"error": "who are you?", "received": {
                    "authorization": rec.headers.get("authorization"), "x-api-token": rec.headers.get("x-api-token"),
                    "signature": rec.headers.get("x-siemhub-signature")}}).encode())
            return None

        with HecReceiver(token=SECRETS["hec_token"], responder=echo_everything) as hec, \
                WebhookReceiver(scheme="hmac-sha256", secret=SECRETS["hmac"], responder=refuse_twice) as hooks:
            splunk_id = api.create_integration("splunk", {"endpoint": hec.url, "token": SECRETS["hec_token"]})
            hook_id = api.create_integration("webhook", {
                "endpoint": hooks.url, "secret": SECRETS["hmac"], "auth": "basic", "username": "siem-user",
                "password": SECRETS["password"], "headers": {"X-Api-Token": SECRETS["header"]}})
            resp = api.patch(f"/v1/settings/siem/{hook_id}",
                             {"name": "renamed", "config": {"password": SECRETS["password"]}})
            assert resp.status_code == 200, resp.content
            ids = api.ingest([finding(i) for i in range(3)])
            # The kicks are queued; read them raw before any worker consumes them.
            queued = redis_client(e2e.broker_url).lrange("celery", 0, -1)
            assert queued, "no task message was queued in Redis"
            bodies = [json.loads(base64.b64decode(json.loads(m)["body"])) for m in queued]
            for args, kwargs, _embed in bodies:  # a task message carries one integration id, nothing else
                assert kwargs == {} and len(args) == 1 and args[0] in (splunk_id, hook_id), args

            with RedisMonitor(e2e.broker_url) as monitor:
                e2e.start_worker(loglevel="debug", LOG_LEVEL="DEBUG", SIEMHUB_MAX_ATTEMPTS="3", **FAST_RETRY)
                e2e.start_beat()
                e2e.wait_until(lambda: len(hooks.event_ids()) >= 3 + 2, "the webhook got the events")
                e2e.wait_until(lambda: DeadLetter.objects.filter(integration_id=splunk_id).count() >= 3,
                               "the refused events were dead-lettered", timeout=30)
                api.post(f"/v1/settings/siem/{splunk_id}/test")  # the Test button, in this process
                # A careless log line in this process: the logging safety net must scrub it.
                logging.getLogger("delivery.sender").warning("careless: token=%s", SECRETS["hec_token"])
                time.sleep(0.5)

            # Every API read an admin or a script would do.
            for path in ("/v1/settings/siem", f"/v1/settings/siem/{splunk_id}", f"/v1/settings/siem/{hook_id}",
                         f"/v1/settings/siem/{splunk_id}/deliveries", f"/v1/settings/siem/{hook_id}/deliveries",
                         "/v1/settings/siem/dead-letters", "/v1/audit", "/metrics"):
                assert api.get(path).status_code == 200, path
            places = {
                "API responses": b"\n".join(api.responses).decode("utf-8", "replace"),
                "audit entries": json.dumps(list(AuditEntry.objects.values("changes", "target_name")), default=str),
                "last_error": json.dumps(list(Integration.objects.values_list("last_error", flat=True))),
                "delivery rows": json.dumps(list(Delivery.objects.values_list("last_error", flat=True))),
                "attempt log": json.dumps(list(DeliveryAttempt.objects.values_list("error", flat=True))),
                "dead letters": json.dumps(list(DeadLetter.objects.values_list("error", flat=True))),
                "dead-letter file": _read(e2e.tmp_path / "var" / "dead-letters.jsonl"),
                "worker and beat logs": e2e.logs(),
                "test-process logs": captured.getvalue(),
                "queued Celery messages": b"\n".join(queued).decode("utf-8", "replace")
                + "\n".join(json.dumps(b) for b in bodies),
                "Redis commands (MONITOR)": "\n".join(monitor.lines),
                "bodies sent to the SIEMs": b"\n".join(r.body for r in hec.received + hooks.received).decode(),
            }
    finally:
        console.setStream(old_stream)
        logging.getLogger().setLevel(old_level)

    # The searches must be able to find something: the hostile receiver did echo the secrets.
    assert SECRETS["hec_token"] in hec.received[0].body.decode() or \
        SECRETS["hec_token"] in json.dumps([r.headers for r in hec.received])
    assert "deliver_integration" in places["Redis commands (MONITOR)"]
    assert "Server is busy" in places["last_error"] or "503" in places["last_error"]
    assert "[REDACTED]" in places["audit entries"]
    assert "[REDACTED]" in places["last_error"]  # the echoed token was there, and was scrubbed
    assert len(hook_refusals) == 2 and "401" in places["attempt log"]
    assert "careless: token=[REDACTED]" in places["test-process logs"]  # the capture works
    assert " delivered, " in places["worker and beat logs"]
    leaks = {where: sorted(n for n in needles if n in text) for where, text in places.items()}
    assert not any(leaks.values()), {k: v for k, v in leaks.items() if v}
    # The Basic credential is the password in base64: a receiver echoing it back as JSON
    # ({"authorization": "Basic ..."}) must not get it into the attempt log or its API.
    basic_leaks = sorted(where for where, text in places.items() if basic in text)
    assert not basic_leaks, f"the base64 Basic credential leaked into: {', '.join(basic_leaks)}"


def _read(path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""
