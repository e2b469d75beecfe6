"""Benchmark events: ids the receiver can count, ingest clients, and a COPY backlog loader."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson

BASE_TIME = datetime(2026, 3, 1, tzinfo=UTC)


def event_id(phase: int, seq: int) -> str:
    """A valid UUID that names its phase and sequence number (see bench.receiver)."""
    return f"{phase:08x}-0000-4000-8000-{seq:012x}"


def raw_event(phase: int, seq: int, *, sent_at: float | None = None) -> dict:
    """One event as a producer posts it (canonical shape), about 600 bytes once stored."""
    data = {
        "title": f"SSH exposed to the internet on host-{seq % 997}",
        "description": "A scanner found TCP 22 answering with an OpenSSH banner from outside the network; "
                       "restrict it to the bastion or the VPN range.",
        "rule_id": "net.ssh.exposed", "scanner": "siemhub-bench", "port": 22, "protocol": "tcp",
        "ip": f"10.{seq >> 16 & 255}.{seq >> 8 & 255}.{seq & 255}", "n": seq,
    }
    if sent_at is not None:
        data["t"] = sent_at
    return {
        "id": event_id(phase, seq), "type": "bench.finding", "severity": "high",
        "timestamp": (BASE_TIME + timedelta(milliseconds=seq)).isoformat().replace("+00:00", "Z"),
        "asset": {"id": f"host-{seq % 997}", "name": f"host-{seq % 997}.example.com", "type": "host",
                  "tags": ["prod", "dmz"]},
        "data": data,
    }


def canonical(raw: dict) -> dict:
    """What delivery.normalize makes of ``raw_event`` (checked against it in load_backlog)."""
    when = datetime.fromisoformat(raw["timestamp"].replace("Z", "+00:00"))
    return {"id": raw["id"], "type": raw["type"], "timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "severity": raw["severity"], "org_id": None, "asset": raw["asset"], "data": raw["data"]}


# --- HTTP ingest ---------------------------------------------------------------------------

@dataclass
class Client:
    """One keep-alive connection to the ingest API."""

    port: int
    key: str
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        self.headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}

    def post(self, body: bytes) -> int:
        t0 = time.perf_counter()
        for attempt in range(3):
            try:
                self.conn.request("POST", "/v1/events", body=body, headers=self.headers)
                resp = self.conn.getresponse()
                answer = resp.read()
                break
            except (ConnectionError, http.client.HTTPException) as exc:  # a worker recycled: reconnect
                self.conn.close()
                if attempt == 2:
                    self.errors.append(type(exc).__name__)
                    return 0
        self.latencies.append(time.perf_counter() - t0)
        if resp.status != 202:
            self.errors.append(f"HTTP {resp.status}: {answer[:200]!r}")
        return resp.status


def post_all(port: int, key: str, bodies: list[bytes], *, threads: int) -> tuple[float, float, list[Client]]:
    """POST every body, ``threads`` connections in parallel; returns (start, end, clients)."""
    clients = [Client(port, key) for _ in range(threads)]
    shares = [bodies[i::threads] for i in range(threads)]
    workers = [threading.Thread(target=lambda c=c, s=s: [c.post(b) for b in s]) for c, s in zip(clients, shares)]
    start = time.time()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return start, time.time(), clients


def paced(port: int, key: str, phase: int, *, rate: float, duration_s: float, batch: int = 1,
          threads: int = 8) -> list[Client]:
    """POST events at a steady ``rate`` per second, ``batch`` per POST; each carries its send time."""
    total = int(rate * duration_s)
    clients = [Client(port, key) for _ in range(threads)]
    next_seq = iter(range(0, total, batch))
    lock = threading.Lock()
    start = time.time() + 0.2

    def run(client: Client) -> None:
        while True:
            with lock:
                first = next(next_seq, None)
            if first is None:
                return
            delay = start + first / rate - time.time()
            if delay > 0:
                time.sleep(delay)
            sent_at = time.time()
            events = [raw_event(phase, seq, sent_at=sent_at) for seq in range(first, min(total, first + batch))]
            client.post(orjson.dumps(events if batch > 1 else events[0]))

    workers = [threading.Thread(target=run, args=(c,)) for c in clients]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return clients


# --- backlog -------------------------------------------------------------------------------

def load_backlog(integration_id: str, phase: int, count: int, *, chunk: int = 50_000,
                 progress: callable = lambda done: None) -> float:
    """Store ``count`` pending events for the integration with COPY (the worker is stopped).

    Rows are exactly what event_emit would store (checked on the first event), written with
    COPY because a million INSERTs would take longer than the drain being measured.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from delivery.normalize import normalize

    sample = raw_event(phase, 0)
    if normalize(sample) != canonical(sample):
        raise RuntimeError("bench.load.canonical no longer matches delivery.normalize: fix the benchmark")
    started = time.monotonic()
    now = timezone.now()
    for begin in range(0, count, chunk):
        seqs = range(begin, min(count, begin + chunk))
        with transaction.atomic(), connection.cursor() as cursor:
            pg = cursor.cursor
            with pg.copy("COPY delivery_event (id, type, severity, timestamp, org_id, payload, received_at) "
                         "FROM STDIN") as copy:
                for seq in seqs:
                    event = canonical(raw_event(phase, seq))
                    copy.write_row((event["id"], event["type"], event["severity"], event["timestamp"], "",
                                    orjson.dumps(event).decode(), now))
            with pg.copy("COPY delivery_delivery (integration_id, event_id, attempts, last_error, created_at) "
                         "FROM STDIN") as copy:
                for seq in seqs:
                    copy.write_row((integration_id, event_id(phase, seq), 0, "", now))
        progress(seqs.stop)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE delivery_delivery")
        cursor.execute("ANALYZE delivery_event")
    return time.monotonic() - started


def batches(phase: int, count: int, size: int) -> Iterable[bytes]:
    for begin in range(0, count, size):
        yield orjson.dumps([raw_event(phase, seq) for seq in range(begin, min(count, begin + size))])
