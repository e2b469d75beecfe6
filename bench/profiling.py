"""Where the time goes: py-spy samples of a process tree, summed by function and by area.

``py-spy record --gil --format raw`` writes one collapsed stack per line with its sample count,
sampling only the thread that holds the GIL: the Python CPU time of each process (a thread
waiting for PostgreSQL, Redis or the network has released the GIL and is not counted; the
database's own CPU is in the benchmark's per-component CPU accounting, not here). ``busy`` =
samples / (duration x rate): Python-busy cores, summed over the processes of the tree.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

RATE = 200
OWN = ("delivery/", "integrations/", "siemhub/")  # the project's own code
_LINE = re.compile(r"^(.*) (\d+)$")
_FRAME_LINE = re.compile(r":\d+\)$")

AREAS = [  # first match wins; matched against the frame's file
    ("postgres (psycopg, Django ORM)", ("psycopg", "django/db")),
    ("HTTP client (requests, urllib3, http.client, ssl)",
     ("requests/", "urllib3/", "http/client", "ssl.py", "socket.py")),
    ("JSON (orjson, json)", ("orjson", "json/")),
    ("Celery / kombu / redis", ("celery/", "kombu/", "redis/", "billiard/", "vine/")),
    ("logging and redaction", ("logging/", "siemhub/redaction", "siemhub/logging")),
    ("siemhub engine (delivery/, integrations/)", ("delivery/", "integrations/")),
    ("Django request handling, DRF, WSGI", ("django/", "rest_framework/", "gunicorn/", "whitenoise/")),
]


def py_spy() -> str | None:
    candidate = Path(sys.executable).with_name("py-spy")
    return str(candidate) if candidate.exists() else shutil.which("py-spy")


def record(ctx, proc, label: str, *, duration_s: float) -> dict:
    exe = py_spy()
    if not exe:
        return {"label": label, "error": "py-spy not installed (scripts/bench.sh --profile installs it)"}
    out = proc.log_path.with_name(f"profile-{label}-{proc.name}.raw")
    ctx.say(f"  profiling {proc.name} with py-spy for {duration_s:g} s ...")
    run = subprocess.run([exe, "record", "--pid", str(proc.pid), "--subprocesses", "--gil", "--rate", str(RATE),
                          "--duration", str(int(duration_s)), "--format", "raw", "--output", str(out), "--nonblocking"],
                         capture_output=True, text=True)
    if run.returncode != 0 or not out.exists():
        return {"label": label, "error": (run.stderr or run.stdout)[-500:]}
    return summarize(out.read_text(), label=label, process=proc.name, duration_s=duration_s)


_FRAME = re.compile(r"^(.*) \((.*)\)$")


def _short(frame: str) -> str:
    """``func (path)`` without the line number and the install prefix; other labels unchanged."""
    match = _FRAME.match(_FRAME_LINE.sub(")", frame))
    if not match or frame.startswith(("process ", "thread ")):
        return frame
    name, path = match.groups()
    for marker in ("site-packages/", "/work/main/", "python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})"


def _area(frame: str) -> str:
    for name, needles in AREAS:
        if any(n in frame for n in needles):
            return name
    return "other (interpreter, stdlib)"


def summarize(raw: str, *, label: str, process: str, duration_s: float, top: int = 15) -> dict:
    inclusive: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    pids: set[str] = set()
    total = 0
    for line in raw.splitlines():
        match = _LINE.match(line.strip())
        if not match:
            continue
        stack, count = match.group(1), int(match.group(2))
        frames = [_short(f) for f in stack.split(";")]
        pids.add(frames[0])
        frames = [f for f in frames if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        self_time[frames[-1]] += count
        # The deepest frame in a known area names where the time goes (a C call made from
        # psycopg counts as postgres, not as "other").
        areas[next((_area(f) for f in reversed(frames) if _area(f) != "other (interpreter, stdlib)"),
                   "other (interpreter, stdlib)")] += count

    def pct(n: int) -> float:
        return round(100.0 * n / total, 1) if total else 0.0

    return {
        "label": label, "process": process, "duration_s": duration_s, "samples": total,
        "busy_share_of_one_core": round(total / (duration_s * RATE), 2),
        "areas_pct": {name: pct(n) for name, n in areas.most_common()},
        "top_siemhub_inclusive_pct": [(f, pct(n)) for f, n in inclusive.most_common()
                                      if f.split(" (", 1)[-1].startswith(OWN)][:top],
        "top_self_pct": [(f, pct(n)) for f, n in self_time.most_common(top)],
    }


def format_profile(p: dict) -> str:
    if not p:
        return ""
    if "error" in p:
        return f"profile {p['label']}: {p['error']}"
    lines = [f"profile '{p['label']}' of {p['process']}: {p['samples']} GIL-holding samples in {p['duration_s']:g} s "
             f"= {p['busy_share_of_one_core']:.2f} cores busy in Python"]
    lines.append("  where the time goes (by the deepest known frame):")
    lines += [f"    {share:5.1f} %  {area}" for area, share in p["areas_pct"].items()]
    lines.append("  siemhub functions, inclusive (time in them and what they call):")
    lines += [f"    {share:5.1f} %  {frame}" for frame, share in p["top_siemhub_inclusive_pct"]]
    lines.append("  top functions, self:")
    lines += [f"    {share:5.1f} %  {frame}" for frame, share in p["top_self_pct"]]
    return "\n".join(lines)
