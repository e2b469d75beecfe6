"""The three measurements: sustained throughput, latency at a steady rate, memory on a big backlog."""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from dataclasses import dataclass
from typing import Any

import orjson

from bench import load
from bench.procs import Proc, Procs, cpu_seconds


@dataclass
class Context:
    procs: Procs
    api_port: int
    receiver_port: int
    key: str
    integration_id: str
    worker: Proc
    gunicorn: Proc
    say: Any = print
    postmaster: int | None = None
    redis: int | None = None

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far per component, and ``_at``: when this was read."""
        groups = {"web (gunicorn)": self.gunicorn.pid, "celery worker": self.worker.pid,
                  "receiver": self.procs.receiver_proc.pid}
        return {**cpu_seconds(groups, postmaster=self.postmaster, redis=self.redis), "_at": time.time()}


def cpu_per_event(before: dict[str, float], after: dict[str, float], events: int) -> dict:
    """CPU used by each component between two readings: ms per event and cores busy on average."""
    seconds = after["_at"] - before["_at"]
    used = {k: after[k] - before.get(k, 0.0) for k in after if k != "_at"}
    total = sum(used.values())
    return {"cpu_ms_per_event": {k: round(v * 1000 / events, 3) for k, v in used.items()} |
            {"total": round(total * 1000 / events, 3)},
            "cores_busy": {k: round(v / seconds, 2) for k, v in used.items()} | {"total": round(total / seconds, 2)}}


# --- the receiver's counters ---------------------------------------------------------------

def receiver_call(port: int, method: str, path: str, body: dict | None = None) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=orjson.dumps(body) if body is not None else None)
        return orjson.loads(conn.getresponse().read())
    finally:
        conn.close()


def reset(ctx: Context, phase: int, expected: int) -> None:
    receiver_call(ctx.receiver_port, "POST", "/_reset", {"phase": phase, "expected": expected})


def stats(ctx: Context, *, latencies: bool = False) -> dict:
    return receiver_call(ctx.receiver_port, "GET", "/_latencies" if latencies else "/_stats")


def wait_delivered(ctx: Context, expected: int, *, stall_s: float = 120.0, on_sample=None) -> dict:
    """Poll until every expected event arrived; give up after ``stall_s`` without progress."""
    last, last_change = -1, time.monotonic()
    while True:
        current = stats(ctx)
        if on_sample:
            on_sample(current)
        if current["unique"] >= expected:
            time.sleep(0.5)  # a duplicate would show up now
            return stats(ctx)
        if current["unique"] != last:
            last, last_change = current["unique"], time.monotonic()
        elif time.monotonic() - last_change > stall_s:
            raise RuntimeError(f"delivery stalled at {current['unique']}/{expected} events:\n"
                               f"{ctx.worker.log()[-3000:]}")
        time.sleep(0.2)


def exactly_once(result: dict, expected: int) -> dict:
    return {"expected": expected, "arrived_unique": result["unique"], "duplicates": result["dupes"],
            "foreign": result["foreign"], "ok": result["unique"] == expected and result["dupes"] == 0}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


# --- (a) sustained events per second -------------------------------------------------------

def throughput(ctx: Context, *, events: int, batch: int, threads: int, phase: int = 1) -> dict:
    reset(ctx, phase, events)
    bodies = list(load.batches(phase, events, batch))
    ctx.say(f"  posting {events:,} events in {len(bodies)} arrays of {batch} from {threads} client threads ...")
    cpu0 = ctx.cpu()
    start, end, clients = load.post_all(ctx.api_port, ctx.key, bodies, threads=threads)
    pending_at_ingest_end = _pending(ctx)
    result = wait_delivered(ctx, events)
    cpu1 = ctx.cpu()
    errors = [e for c in clients for e in c.errors]
    posts = [t for c in clients for t in c.latencies]
    e2e_s = result["last_arrival"] - start
    return {
        "events": events, "batch": batch, "client_threads": threads,
        "event_bytes_stored": len(orjson.dumps(load.canonical(load.raw_event(phase, 0)))),
        "ingest_s": round(end - start, 3), "ingest_events_per_s": round(events / (end - start)),
        "end_to_end_s": round(e2e_s, 3), "end_to_end_events_per_s": round(events / e2e_s),
        "drain_after_ingest_s": round(result["last_arrival"] - end, 3),
        "pending_when_ingest_ended": pending_at_ingest_end,
        "post_p50_ms": round(statistics.median(posts) * 1000, 1), "post_p99_ms": round(percentile(posts, 99) * 1000, 1),
        "hec_requests": result["requests"],
        "events_per_hec_request": round(result["events"] / max(1, result["requests"]), 1),
        "api_errors": errors[:5], "api_error_count": len(errors),
        "exactly_once": exactly_once(result, events),
        "cpu": cpu_per_event(cpu0, cpu1, events),
    }


def _pending(ctx: Context) -> int:
    from bench.stack import pending

    return pending(ctx.integration_id)


# --- (b) latency at a steady rate ----------------------------------------------------------

def latency(ctx: Context, *, rate: float, duration_s: float, batch: int = 1, phase: int = 2) -> dict:
    total = int(rate * duration_s)
    reset(ctx, phase, total)
    ctx.say(f"  posting {rate:g} events/s, {batch} per POST, for {duration_s:g} s ...")
    t0 = time.time()
    cpu0 = ctx.cpu()
    clients = load.paced(ctx.api_port, ctx.key, phase, rate=rate, duration_s=duration_s, batch=batch)
    achieved = total / (time.time() - t0 - 0.2)
    result = wait_delivered(ctx, total, stall_s=60)
    cpu1 = ctx.cpu()
    samples = stats(ctx, latencies=True)["latencies"]
    posts = [t for c in clients for t in c.latencies]
    return {
        "rate_target_per_s": rate, "rate_achieved_per_s": round(achieved, 1), "duration_s": duration_s,
        "events": total, "events_per_post": batch,
        "latency_ms": {name: round(percentile(samples, q) * 1000, 1)
                       for name, q in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))},
        "post_answer_ms": {"p50": round(statistics.median(posts) * 1000, 1),
                           "p99": round(percentile(posts, 99) * 1000, 1)},
        "hec_requests": result["requests"],
        "events_per_hec_request": round(result["events"] / max(1, result["requests"]), 2),
        "api_error_count": sum(len(c.errors) for c in clients),
        "exactly_once": exactly_once(result, total),
        "cpu": cpu_per_event(cpu0, cpu1, total),
    }


# --- (c) memory while draining a big backlog -------------------------------------------------

def memory(ctx: Context, *, events: int, phase: int = 3, profile_s: float = 0.0) -> dict:
    from delivery.signals import kick

    ctx.say("  stopping the worker and loading the backlog with COPY ...")
    ctx.procs.stop(ctx.worker)
    reset(ctx, phase, events)
    load_s = load.load_backlog(ctx.integration_id, phase, events,
                               progress=lambda done: ctx.say(f"    {done:,} stored", end="\r"))
    ctx.say("")
    worker = ctx.worker = ctx.procs.worker()
    time.sleep(1.0)
    idle = sum(worker.rss().values())
    samples: list[dict] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            rss = worker.rss()
            samples.append({"t": time.time(), "rss_total": sum(rss.values()),
                            "rss_max_process": max(rss.values(), default=0), "processes": len(rss),
                            "delivered": stats(ctx)["unique"]})
            stop.wait(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    ctx.say(f"  draining {events:,} events with one worker (RSS of its process tree every 0.5 s) ...")
    sampler.start()
    started = time.time()
    cpu0 = ctx.cpu()
    kick([ctx.integration_id])
    profile = None
    if profile_s:
        from bench.profiling import record

        wait_until_delivered(ctx, events // 10)
        profile = record(ctx, worker, "c-drain", duration_s=profile_s)
    result = wait_delivered(ctx, events, stall_s=180,
                            on_sample=lambda s: ctx.say(f"    {s['unique']:,} delivered", end="\r"))
    cpu1 = ctx.cpu()
    ctx.say("")
    stop.set()
    sampler.join()
    drain_s = result["last_arrival"] - started

    def at(fraction: float) -> dict:
        return next((s for s in samples if s["delivered"] >= fraction * events), samples[-1] if samples else {})

    p10, p90 = at(0.1), at(0.9)
    peak = max(samples, key=lambda s: s["rss_total"])
    mib = 1024 * 1024
    return {
        "events": events, "backlog_load_s": round(load_s, 1), "backlog_load_events_per_s": round(events / load_s),
        "drain_s": round(drain_s, 1), "drain_events_per_s": round(events / drain_s),
        "worker_processes": peak["processes"],
        "rss_idle_mib": round(idle / mib, 1),
        "rss_peak_mib": round(peak["rss_total"] / mib, 1),
        "rss_peak_single_process_mib": round(max(s["rss_max_process"] for s in samples) / mib, 1),
        "rss_at_10pct_mib": round(p10.get("rss_total", 0) / mib, 1),
        "rss_at_90pct_mib": round(p90.get("rss_total", 0) / mib, 1),
        "growth_10_to_90pct_mib": round((p90.get("rss_total", 0) - p10.get("rss_total", 0)) / mib, 1),
        "flat": abs(p90.get("rss_total", 0) - p10.get("rss_total", 0)) < 0.10 * max(1, p10.get("rss_total", 1)),
        "samples": [{"s": round(s["t"] - started, 1), "rss_mib": round(s["rss_total"] / mib, 1),
                     "delivered": s["delivered"]} for s in samples],
        "exactly_once": exactly_once(result, events),
        "cpu": cpu_per_event(cpu0, cpu1, events),
        "profile": profile,
    }


def wait_until_delivered(ctx: Context, count: int) -> None:
    while stats(ctx)["unique"] < count:
        time.sleep(0.2)
