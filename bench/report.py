"""The results table."""

from __future__ import annotations


def _once(block: dict) -> str:
    check = block["exactly_once"]
    if check["ok"]:
        return f"yes ({check['expected']:,})"
    return f"NO: {check['arrived_unique']:,}/{check['expected']:,} arrived, {check['duplicates']} duplicates"


def table(results: dict) -> str:
    rows: list[tuple[str, str]] = []
    if "throughput" in results:
        t = results["throughput"]
        rows += [
            ("(a) events", f"{t['events']:,} in arrays of {t['batch']}, {t['client_threads']} client threads, "
                           f"~{t['event_bytes_stored']} B each"),
            ("(a) ingest rate (API 202s)", f"{t['ingest_events_per_s']:,} events/s ({t['ingest_s']} s)"),
            ("(a) end-to-end rate", f"{t['end_to_end_events_per_s']:,} events/s ({t['end_to_end_s']} s, "
                                    f"drain after ingest {t['drain_after_ingest_s']} s)"),
            ("(a) POST answer p50 / p99", f"{t['post_p50_ms']} / {t['post_p99_ms']} ms"),
            ("(a) HEC requests", f"{t['hec_requests']:,} ({t['events_per_hec_request']} events each)"),
            ("(a) exactly once", _once(t)),
        ]
    for name, label in (("latency", "(b)"), ("latency_single", "(b')")):
        if name not in results:
            continue
        lat = results[name]
        ms = lat["latency_ms"]
        rows += [
            (f"{label} steady rate", f"{lat['rate_achieved_per_s']} events/s for {lat['duration_s']:g} s "
                                     f"(target {lat['rate_target_per_s']:g}), {lat['events_per_post']} per POST"),
            (f"{label} POST -> receiver p50 / p90", f"{ms['p50']} / {ms['p90']} ms"),
            (f"{label} POST -> receiver p99 / max", f"{ms['p99']} / {ms['max']} ms"),
            (f"{label} POST answer p50 / p99", f"{lat['post_answer_ms']['p50']} / {lat['post_answer_ms']['p99']} ms"),
            (f"{label} exactly once", _once(lat)),
        ]
    if "memory" in results:
        m = results["memory"]
        rows += [
            ("(c) backlog", f"{m['events']:,} events, loaded in {m['backlog_load_s']} s "
                            f"({m['backlog_load_events_per_s']:,}/s, COPY)"),
            ("(c) drain", f"{m['drain_events_per_s']:,} events/s ({m['drain_s']} s)"),
            ("(c) worker RSS idle / peak", f"{m['rss_idle_mib']} / {m['rss_peak_mib']} MiB ({m['worker_processes']} "
                                           f"processes; largest {m['rss_peak_single_process_mib']} MiB)"),
            ("(c) RSS at 10 % / 90 % drained",
             f"{m['rss_at_10pct_mib']} / {m['rss_at_90pct_mib']} MiB "
             f"({'flat' if m['flat'] else 'GROWS'}: {m['growth_10_to_90pct_mib']:+} MiB)"),
            ("(c) exactly once", _once(m)),
        ]
    for name, label in (("throughput", "(a)"), ("latency", "(b)"), ("latency_single", "(b')"), ("memory", "(c)")):
        cpu = (results.get(name) or {}).get("cpu")
        if cpu:
            per = cpu["cpu_ms_per_event"]
            parts = ", ".join(f"{k} {v:g}" for k, v in per.items() if k != "total" and v >= 0.0005)
            rows.append((f"{label} CPU ms per event", f"{per['total']:g} total: {parts}; "
                                                      f"{cpu['cores_busy']['total']:g} cores busy"))
    width = max((len(k) for k, _ in rows), default=10)
    machine = results.get("machine", {})
    head = (f"siemhub benchmark ({'quick' if results.get('quick') else 'full'}), {machine.get('cpus')} CPUs, "
            f"load average at start {machine.get('load_average_at_start')}")
    setup = results.get("setup", {})
    lines = [head, "  " + "; ".join(f"{k}: {v}" for k, v in setup.items()), ""]
    lines += [f"  {k.ljust(width)}  {v}" for k, v in rows]
    return "\n".join(lines)
