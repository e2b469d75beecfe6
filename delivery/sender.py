"""The sender: drains one integration's pending events, batch by batch.

Per batch (one sender per integration, see locking.py): claim the oldest pending Delivery rows
(up to SIEMHUB_BATCH_MAX_EVENTS), let the connector format and split them, send the requests in
order, then record everything in one transaction: delivered rows deleted, dead rows moved to
the dead letter store, retryable rows kept with attempts + 1 (dead-lettered after
SIEMHUB_MAX_ATTEMPTS), one DeliveryAttempt per request, the integration's status, and the
backoff. A retryable failure stops the batch there, so events after it keep their order.

Poison events never take a batch down: an event the connector cannot format is dead-lettered
alone, and a request refused as a whole with a data error (400, 413) is split in halves and
resent, down to the single event that is refused.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import orjson
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from delivery.connectors import get_connector
from delivery.connectors.base import Connector, OutboundRequest, Outcome, SendResult, TransportResponse
from delivery.deadletter import dead_letters_record
from delivery.outbox import deliveries_delete
from delivery.formats.timefmt import iso_utc
from delivery.locking import sender_ensure, sender_lock
from delivery.models import Delivery, DeliveryAttempt, Sender
from delivery.retry import backoff_seconds
from delivery.transports import transport_for
from integrations.models import Integration, IntegrationStatus
from siemhub.redaction import SENSITIVE_KEY, remember_secrets, scrub

logger = logging.getLogger(__name__)


def connector_for(integration: Integration) -> Connector:
    """Instantiate the integration's connector with its decrypted secrets."""
    secrets = integration.get_secrets()
    remember_secrets(secrets.values())
    return get_connector(integration.integration_type)(config=integration.config or {}, secrets=secrets)


@dataclass
class AttemptRecord:
    started: Any
    duration_ms: int
    status_code: int | None
    outcome: str
    events: int
    delivered: int
    dead: int
    bytes: int
    error: str


@dataclass
class BatchRun:
    """Sends one batch of events through a connector and collects per-event outcomes."""

    connector: Connector
    transport: Any
    events: list[dict[str, Any]]
    delivered: list[str] = field(default_factory=list)
    dead: dict[str, str] = field(default_factory=dict)
    retry: dict[str, str] = field(default_factory=dict)
    attempts: list[AttemptRecord] = field(default_factory=list)
    retry_after: float | None = None
    last_detail: str = ""

    def __post_init__(self) -> None:
        self.by_id = {str(e["id"]): e for e in self.events}

    def _clean(self, text: str) -> str:
        return scrub(text, self.connector.secrets.values())[:256]

    def send_raw(self, request: OutboundRequest) -> TransportResponse:
        headers = dict(self.connector.request_headers(request))
        # Derived credentials (a Basic header's base64, a fetched bearer token) are secrets too:
        # remember them so an echo of them in a response is scrubbed like the raw secret.
        remember_secrets([v for k, v in headers.items() if SENSITIVE_KEY.search(k)]
                         + [v.split(" ", 1)[1] for k, v in headers.items()
                            if k.lower() == "authorization" and " " in v])
        return self.transport.send(request, headers=headers)

    def run(self) -> None:
        requests = self._build(self.events)
        try:
            self.connector.authenticate(self.send_raw)
        except Exception as exc:  # e.g. the token endpoint is down or refuses the secret
            detail = self._clean(str(exc) or type(exc).__name__)
            self.last_detail = detail
            for request in requests:
                for event_id in request.event_ids:
                    self.retry[event_id] = detail
            self.attempts.append(AttemptRecord(timezone.now(), 0, None, "retry", len(self.events), 0, 0, 0, detail))
            return
        for request in requests:
            if self._send(request):
                break

    def _build(self, events: list[dict[str, Any]]) -> list[OutboundRequest]:
        try:
            return self.connector.build_requests(events)
        except Exception:
            if len(events) == 1:
                event_id = str(events[0]["id"])
                self.dead[event_id] = "could not format this event for the destination"
                logger.exception("connector %s could not format event %s", self.connector.type, event_id)
                return []
        requests: list[OutboundRequest] = []
        for event in events:  # isolate the event(s) that break formatting
            requests.extend(self._build([event]))
        return requests

    def _send(self, request: OutboundRequest) -> bool:
        """Send one request; returns True when a retryable failure means: stop this batch."""
        started = timezone.now()
        t0 = time.monotonic()
        try:
            response = self.send_raw(request)
            result = self.connector.parse_response(request, response)
            result = self.connector.confirm(request, response, result, self.send_raw)
        except Exception as exc:
            logger.exception("unexpected error sending to %s", self.connector.type)
            response = TransportResponse(status_code=None, error=type(exc).__name__)
            result = SendResult(Outcome.RETRY, detail=f"Unexpected error while sending: {type(exc).__name__}")
        duration_ms = int((time.monotonic() - t0) * 1000)
        detail = self._clean(result.detail)
        ids = list(request.event_ids)
        if result.retry_after_s is not None:
            self.retry_after = max(self.retry_after or 0.0, result.retry_after_s)

        if result.outcome is Outcome.DEAD and not result.per_event and result.splittable and len(ids) > 1:
            self.attempts.append(
                AttemptRecord(started, duration_ms, result.status_code, "dead", len(ids), 0, 0, len(request.body),
                              f"{detail} (splitting the batch to find the event at fault)")
            )
            half = len(ids) // 2
            for part in (ids[:half], ids[half:]):
                for sub in self._build([self.by_id[i] for i in part]):
                    if self._send(sub):
                        return True
            return False

        delivered = dead = 0
        stop = False
        for event_id in ids:
            outcome = result.per_event.get(event_id, result.outcome)
            if outcome is Outcome.OK:
                self.delivered.append(event_id)
                delivered += 1
            elif outcome is Outcome.DEAD:
                self.dead[event_id] = self._clean(result.per_event_detail.get(event_id, "") or detail)
                dead += 1
            else:
                self.retry[event_id] = self._clean(result.per_event_detail.get(event_id, "") or detail)
                stop = True
        if detail:
            self.last_detail = detail
        outcome_label = (
            "retry" if stop else "ok" if dead == 0 else "dead" if delivered == 0 else "partial"
        )
        self.attempts.append(
            AttemptRecord(started, duration_ms, result.status_code, outcome_label, len(ids), delivered, dead,
                          len(request.body), detail)  # an OK may carry a notice (UDP truncation)
        )
        return stop


def _claim(integration_id: str, limit: int) -> list[tuple[int, int, str]]:
    return list(
        Delivery.objects.filter(integration_id=integration_id)
        .order_by("id")
        .values_list("id", "attempts", "event__payload")[:limit]
    )


def integration_drain(integration_id: str, *, budget_s: float | None = None) -> int:
    """Deliver what is pending for one integration, until idle or the time budget is spent.

    Returns the number of events delivered. Re-enqueues itself when work remains.
    """
    sender_ensure(integration_id)
    budget = settings.SIEMHUB_DRAIN_BUDGET_S if budget_s is None else budget_s
    deadline = time.monotonic() + budget
    delivered = 0
    while True:
        state, count = _drain_one(integration_id)
        delivered += count
        if state == "sent":
            if time.monotonic() > deadline:
                _kick_later(integration_id, 0)
                break
            continue
        if state == "idle" and Delivery.objects.filter(integration_id=integration_id).exists():
            continue  # something was committed while we held the lock: go again
        break
    return delivered


def _drain_one(integration_id: str) -> tuple[str, int]:
    with sender_lock(integration_id) as sender:
        if sender is None:
            return "busy", 0
        now = timezone.now()
        if sender.backoff_until and sender.backoff_until > now:
            return "backoff", 0
        integration = Integration.objects.filter(pk=integration_id).first()
        if integration is None or not integration.enabled:
            return "disabled", 0
        rows = _claim(integration_id, settings.SIEMHUB_BATCH_MAX_EVENTS)
        if not rows:
            return "idle", 0
        events = [orjson.loads(payload) for _, _, payload in rows]
        connector = connector_for(integration)
        run = BatchRun(connector, transport_for(str(integration.pk), connector), events)
        run.run()
        _record(integration, sender, rows, events, run)
        # After a retryable failure the backoff decides when to go again, not this loop.
        return ("failed" if run.retry else "sent"), len(run.delivered)


def _record(integration: Integration, sender: Sender, rows: list[tuple[int, int, str]],
            events: list[dict[str, Any]], run: BatchRun) -> None:
    now = timezone.now()
    max_attempts = settings.SIEMHUB_MAX_ATTEMPTS
    rows_by_event: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for (row_id, attempts, _), event in zip(rows, events):
        rows_by_event[str(event["id"])].append((row_id, attempts))
    event_by_id = {str(e["id"]): e for e in events}

    done_rows: list[int] = []
    dead_entries: list[tuple[dict[str, Any], str, int]] = []
    retry_rows: dict[str, list[int]] = defaultdict(list)
    for event_id in run.delivered:
        done_rows += [r for r, _ in rows_by_event.get(event_id, [])]
    for event_id, error in run.dead.items():
        for row_id, attempts in rows_by_event.get(event_id, []):
            done_rows.append(row_id)
            dead_entries.append((event_by_id[event_id], error, attempts + 1))
    for event_id, error in run.retry.items():
        for row_id, attempts in rows_by_event.get(event_id, []):
            if attempts + 1 >= max_attempts:
                done_rows.append(row_id)
                dead_entries.append((event_by_id[event_id], f"gave up after {attempts + 1} attempts: {error}", attempts + 1))
            else:
                retry_rows[error].append(row_id)

    failed = bool(run.retry)
    with transaction.atomic():
        deliveries_delete(done_rows)
        for error, ids in retry_rows.items():
            Delivery.objects.filter(id__in=ids).update(attempts=F("attempts") + 1, last_error=error)
        dead_letters_record(integration_id=str(integration.pk), connector=integration.integration_type,
                            entries=dead_entries)
        attempts_store(integration, run)
        failures = sender.consecutive_failures + 1 if failed else 0
        backoff = (
            backoff_seconds(failures, initial=settings.SIEMHUB_BACKOFF_INITIAL_S,
                            maximum=settings.SIEMHUB_BACKOFF_MAX_S, retry_after=run.retry_after)
            if failed else 0.0
        )
        Sender.objects.filter(pk=sender.pk).update(
            consecutive_failures=failures,
            backoff_until=now + timedelta(seconds=backoff) if failed else None,
            delivered_total=F("delivered_total") + len(run.delivered),
            dead_total=F("dead_total") + len(dead_entries),
            failed_total=F("failed_total") + (len(run.retry) if failed else 0),
            requests_total=F("requests_total") + len(run.attempts),
        )
        status_update(integration, run, dead_count=len(dead_entries), now=now)
        if failed:
            transaction.on_commit(lambda: _kick_later(str(integration.pk), backoff))
    logger.info(
        "integration %s: %d delivered, %d dead-lettered, %d to retry in %d request(s)",
        integration.pk, len(run.delivered), len(dead_entries), sum(len(v) for v in retry_rows.values()), len(run.attempts),
    )


def attempts_store(integration: Integration, run: BatchRun, *, is_test: bool = False) -> None:
    """One DeliveryAttempt row per request the run made."""
    DeliveryAttempt.objects.bulk_create(
        [DeliveryAttempt(integration_id=integration.pk, created_at=a.started, duration_ms=a.duration_ms,
                         status_code=a.status_code, outcome=a.outcome, events=a.events, delivered=a.delivered,
                         dead=a.dead, bytes=a.bytes, error=a.error, is_test=is_test) for a in run.attempts]
    )


def status_update(integration: Integration, run: BatchRun, *, dead_count: int, now: Any) -> None:
    """Promise 7: success resets error_count and clears last_error; failure counts and explains."""
    qs = Integration.objects.filter(pk=integration.pk)
    if run.retry or dead_count:
        if run.retry:
            error = next(iter(run.retry.values())) or run.last_detail
        else:
            error = f"{dead_count} event(s) dead-lettered: {next(iter(run.dead.values()), '') or run.last_detail}"
        qs.update(status=IntegrationStatus.ERROR, error_count=F("error_count") + 1,
                  last_error=scrub(error)[:1000], last_attempt_at=now)
    elif run.delivered:
        qs.update(status=IntegrationStatus.SUCCESS, error_count=0, last_error="", last_event_at=now, last_attempt_at=now)


def _kick_later(integration_id: str, delay_s: float) -> None:
    from delivery.tasks import deliver_integration as deliver_integration_task

    try:
        deliver_integration_task.apply_async((integration_id,), countdown=max(0.0, delay_s))
    except Exception as exc:  # broker down: the beat sweep re-kicks
        logger.warning("could not schedule delivery for %s: %s", integration_id, type(exc).__name__)


def build_test_event(integration: Integration) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": "siem.test",
        "timestamp": iso_utc(timezone.now()),
        "severity": "info",
        "org_id": None,
        "asset": None,
        "data": {"message": "Test event from siemhub: if you can read this, delivery works.",
                 "integration": integration.name},
    }


def integration_send_test(integration: Integration) -> tuple[bool, str]:
    """Send one real test event now (no outbox) and update the integration's status."""
    connector = connector_for(integration)
    run = BatchRun(connector, transport_for(f"test:{integration.pk}", connector), [build_test_event(integration)])
    run.run()
    now = timezone.now()
    attempts_store(integration, run, is_test=True)
    status_update(integration, run, dead_count=len(run.dead), now=now)
    if run.delivered:
        return True, f"Test event delivered to {connector.label}."
    message = next(iter(run.retry.values()), "") or next(iter(run.dead.values()), "") or run.last_detail
    return False, message or "The destination did not accept the test event."
