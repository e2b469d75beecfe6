"""Subprocesses of the benchmark (receiver, gunicorn, Celery worker) and their memory.

Each runs in its own process group, so stopping or measuring "the worker" covers its pool
children too. RSS comes from /proc (no psutil needed).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:g} s")


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def group_pids(self) -> list[int]:
        """Every live process of this process group (the main process and its children)."""
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
                if int(fields[2]) == self.pid and fields[0] != b"Z":  # pgrp; not a zombie
                    pids.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
        return pids

    def rss(self) -> dict[int, int]:
        """Resident set size in bytes of each process of the group."""
        out = {}
        for pid in self.group_pids():
            try:
                with open(f"/proc/{pid}/statm") as f:
                    out[pid] = int(f.read().split()[1]) * PAGE
            except (OSError, IndexError, ValueError):
                continue
        return out

    def stop(self, grace_s: float = 10.0) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
                self.popen.wait(timeout=grace_s)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait(timeout=10)


class Procs:
    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env
        self.running: list[Proc] = []

    def spawn(self, name: str, argv: list[str], **env: str) -> Proc:
        log_path = self.workdir / f"{name}.log"
        with open(log_path, "ab") as log:
            popen = subprocess.Popen(argv, cwd=ROOT, env={**self.env, **env}, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        proc = Proc(name, popen, log_path)
        self.running.append(proc)
        return proc

    def receiver(self, port: int, token: str) -> Proc:
        proc = self.spawn("receiver", [sys.executable, "-m", "bench.receiver", "--port", str(port), "--token", token])
        wait_for_port(port)
        self.receiver_proc = proc
        return proc

    def gunicorn(self, port: int, *, workers: int, threads: int) -> Proc:
        proc = self.spawn("gunicorn", [sys.executable, "-m", "gunicorn", "siemhub.wsgi", "--bind", f"127.0.0.1:{port}",
                                       "--workers", str(workers), "--threads", str(threads), "--backlog", "512"])
        wait_for_port(port, timeout=60)
        return proc

    def worker(self, name: str = "worker", *, concurrency: int = 2, **env: str) -> Proc:
        proc = self.spawn(name, [sys.executable, "-m", "celery", "-A", "siemhub", "worker", "-l", "info",
                                 "-c", str(concurrency), "-n", f"{name}@%h", "--without-gossip", "--without-mingle",
                                 "--without-heartbeat"], **env)
        deadline = time.monotonic() + 60
        while " ready." not in proc.log():
            if proc.popen.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Celery worker did not start:\n{proc.log()[-3000:]}")
            time.sleep(0.05)
        return proc

    def stop(self, proc: Proc) -> None:
        proc.stop()
        if proc in self.running:
            self.running.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self.running)):
            self.stop(proc)


# --- CPU accounting -------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, int, float] | None:
    """(ppid, pgrp, cpu seconds of the process and of its reaped children)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return int(fields[1]), int(fields[2]), (utime + stime + cutime + cstime) / TICK


def cpu_seconds(groups: dict[str, int], *, postmaster: int | None = None, redis: int | None = None) -> dict[str, float]:
    """CPU seconds used so far by each process group in ``groups`` (name -> group leader pid),
    by the PostgreSQL cluster under ``postmaster``, by ``redis`` and by this process.

    Counts live processes plus what their exited children used (cutime), so short-lived
    PostgreSQL backends (one per Celery task) are not missed once the postmaster reaps them.
    """
    by_pgrp = {pgid: name for name, pgid in groups.items()}
    out = {name: 0.0 for name in [*groups, "postgres", "redis", "bench client"]}
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        st = _stat(pid)
        if st is None:
            continue
        ppid, pgrp, cpu = st
        if pid == me:
            out["bench client"] += cpu
        elif pgrp in by_pgrp:
            out[by_pgrp[pgrp]] += cpu
        elif postmaster and (pid == postmaster or ppid == postmaster):
            out["postgres"] += cpu
        elif redis and pid == redis:
            out["redis"] += cpu
    return out


def postmaster_pid() -> int | None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    st = _stat(backend)
    return st[0] if st else None


def redis_pid() -> int | None:
    port = os.environ.get("CELERY_BROKER_URL", "").rsplit(":", 1)[-1].split("/")[0]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmd = open(f"/proc/{entry}/cmdline", "rb").read().replace(b"\0", b" ")
            except OSError:
                continue
            if cmd.startswith(b"redis-server") and f":{port}".encode() in cmd:
                return int(entry)
    return None
