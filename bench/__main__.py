"""siemhub delivery benchmark. Run through ``scripts/bench.sh [--quick] [--profile]``.

On PostgreSQL + Redis (started by scripts/bench.sh), with the ingest API served by gunicorn,
ONE Celery worker, and a fast Splunk HEC receiver on 127.0.0.1, it measures:

(a) sustained throughput: arrays of events POSTed by a few client threads as fast as the API
    takes them; ingest rate and end-to-end rate (first POST to last arrival at the receiver);
(b) latency from POST to arrival at a steady rate (default 200 events/s, one event per POST);
(c) the worker's memory (RSS of its process tree, sampled every 0.5 s) while it drains a backlog
    of a million events loaded with the worker stopped.

Every phase checks that each event arrived exactly once. Results: a table on stdout and
bench/results.json (``--out`` to change). This is a benchmark, not a test: nothing fails on a
slow machine; numbers are for comparing changes on the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

from bench import stack
from bench.procs import Procs, free_port, postmaster_pid, redis_pid

HERE = Path(__file__).resolve().parent
FULL = {"events": 200_000, "latency_s": 30.0, "backlog": 1_000_000}
QUICK = {"events": 20_000, "latency_s": 5.0, "backlog": 50_000}


def say(*args, end: str = "\n") -> None:
    print(*args, end=end, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of a minute or two")
    parser.add_argument("--only", choices=["throughput", "latency", "memory"], action="append",
                        help="run only this phase (repeatable)")
    parser.add_argument("--events", type=int, help="events for the throughput phase")
    parser.add_argument("--batch", type=int, default=500, help="events per POST in the throughput phase")
    parser.add_argument("--clients", type=int, default=2, help="client threads in the throughput phase")
    parser.add_argument("--rate", type=float, default=200.0, help="events per second in the latency phase")
    parser.add_argument("--latency-seconds", type=float, help="duration of the latency phase")
    parser.add_argument("--latency-batch", type=int, default=10,
                        help="events per POST in the latency phase (1 = one POST per event; see the report)")
    parser.add_argument("--backlog", type=int, help="events in the memory phase's backlog")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers (Procfile: 2)")
    parser.add_argument("--web-threads", type=int, default=4, help="gunicorn threads per worker (Procfile: 4)")
    parser.add_argument("--concurrency", type=int, default=2, help="the Celery worker's pool size (Procfile: 2)")
    parser.add_argument("--profile", type=float, nargs="?", const=15.0, default=0.0, metavar="SECONDS",
                        help="sample the worker (and gunicorn) with py-spy during the phases")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra environment for gunicorn and the worker, e.g. SIEMHUB_BATCH_MAX_EVENTS=500")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, profiles) on success")
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    phases = args.only or ["throughput", "latency", "memory"]

    workdir = stack.workdir()
    extra = dict(item.split("=", 1) for item in args.env)
    env = stack.configure(workdir, extra)
    stack.setup_django()
    from bench import phases as ph
    from bench.profiling import format_profile
    from bench.report import table

    say(f"siemhub bench: work directory {workdir}")
    stack.migrate()
    key = stack.api_key()
    procs = Procs(workdir, env)
    results: dict = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "quick": args.quick,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
        "setup": {"database": "PostgreSQL (throwaway cluster, default durability)", "broker": "Redis",
                  "web": f"gunicorn {args.web_workers} workers x {args.web_threads} threads",
                  "celery": f"one worker, prefork -c {args.concurrency}",
                  "receiver": "bench.receiver (asyncio HEC, own process)",
                  "batch_max_events": batch_max_events(), "extra_env": extra},
    }
    try:
        receiver_port, api_port = free_port(), free_port()
        procs.receiver(receiver_port, stack.TOKEN)
        integration_id = stack.splunk_integration(receiver_port)
        gunicorn = procs.gunicorn(api_port, workers=args.web_workers, threads=args.web_threads)
        worker = procs.worker(concurrency=args.concurrency)
        ctx = ph.Context(procs, api_port, receiver_port, key, integration_id, worker, gunicorn, say,
                         postmaster=postmaster_pid(), redis=redis_pid())

        say("warming up (2,000 events) ...")
        ph.throughput(ctx, events=2_000, batch=args.batch, threads=args.clients, phase=9)
        if "throughput" in phases:
            say("(a) sustained throughput")
            results["throughput"] = ph.throughput(ctx, events=args.events or sizes["events"], batch=args.batch,
                                                  threads=args.clients)
        if "latency" in phases:
            say("(b) latency at a steady rate")
            seconds = args.latency_seconds or sizes["latency_s"]
            results["latency"] = ph.latency(ctx, rate=args.rate, duration_s=seconds, batch=args.latency_batch)
            if args.latency_batch != 1:
                say("(b') the same rate, one event per POST")
                results["latency_single"] = ph.latency(ctx, rate=args.rate, duration_s=seconds, batch=1, phase=7)
        if "memory" in phases:
            say("(c) worker memory while draining a backlog")
            results["memory"] = ph.memory(ctx, events=args.backlog or sizes["backlog"])
        if args.profile:
            say(f"profiling: the phases again, shorter, with py-spy sampling for {args.profile:g} s")
            results["profiles"] = profiles(ctx, ph, phases, args, sizes, results)
    finally:
        procs.stop_all()
        results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(table(results))
    for profile in results.get("profiles") or []:
        print(format_profile(profile))
    print(f"\nresults written to {args.out}")
    checks = [results[p]["exactly_once"]["ok"] for p in ("throughput", "latency", "latency_single", "memory")
              if p in results]
    if all(checks) and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"logs and profiles kept in {workdir}")
    return 0 if all(checks) else 1


def batch_max_events() -> int:
    from django.conf import settings

    return settings.SIEMHUB_BATCH_MAX_EVENTS


def profiles(ctx, ph, phases: list[str], args, sizes: dict, measured: dict) -> list[dict]:
    """Re-run each phase while py-spy samples the processes doing the work; the measured runs
    above stay unperturbed."""
    import threading

    from bench.profiling import record

    out: list[dict] = []
    seconds = args.profile

    def sampled(label: str, targets, run) -> None:
        runner = threading.Thread(target=run)
        runner.start()
        time.sleep(1.0)  # past the start-up of the phase
        recorders = [threading.Thread(target=lambda p=p: out.append(record(ctx, p, label, duration_s=seconds)))
                     for p in targets]
        for r in recorders:
            r.start()
        for t in (*recorders, runner):
            t.join()

    def enough(phase: str, key: str, default: int) -> int:  # events to keep the phase busy while sampled
        rate = (measured.get(phase) or {}).get(key)
        return int(rate * (seconds + 3)) if rate else default

    if "throughput" in phases:
        events = max(args.batch * 4, enough("throughput", "end_to_end_events_per_s", args.events or sizes["events"]))
        sampled("a-throughput", (ctx.gunicorn, ctx.worker),
                lambda: ph.throughput(ctx, events=events, batch=args.batch, threads=args.clients, phase=4))
    if "latency" in phases:
        sampled("b-latency", (ctx.gunicorn, ctx.worker),
                lambda: ph.latency(ctx, rate=args.rate, duration_s=seconds + 3, batch=args.latency_batch, phase=5))
    if "memory" in phases:
        backlog = min(args.backlog or sizes["backlog"], int(enough("memory", "drain_events_per_s", 200_000) * 1.2))
        profile = ph.memory(ctx, events=backlog, phase=6, profile_s=seconds).get("profile")
        if profile:
            out.append(profile)
    return out


if __name__ == "__main__":
    sys.exit(main())
