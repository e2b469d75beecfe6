"""Real Celery workers, beat and Redis for the end-to-end delivery tests.

The test process and the subprocesses share one database: the one pytest-django created
(``connection.settings_dict["NAME"]``); tests use ``django_db(transaction=True)`` so what they
write is committed and visible to the worker. Each xdist worker gets its own Redis database
number, so kicks from parallel tests never reach each other's workers.

The workers run the production settings module (``siemhub.settings``) with kicks on commit,
the test process's SECRET_KEY / FIELD_ENCRYPTION_KEY, and their own SIEMHUB_VAR_DIR. Each one
is its own process group, so ``kill()`` SIGKILLs the main process and its pool children at once,
like an OOM kill or a lost machine. Everything started here is stopped by the fixture, before
pytest-django flushes the database.

Usage in a test module::

    from tests.e2e.worker import e2e  # noqa: F401  (the fixture)

    def test_x(e2e):
        worker = e2e.start_worker(SIEMHUB_BATCH_MAX_EVENTS="10")
        ...
        e2e.wait_until(lambda: len(receiver.events) == 10, "all events arrived")
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]


# --- environment checks -------------------------------------------------------------------

def services_missing() -> str:
    """Why the real-services tests cannot run here ('' when they can)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return "end-to-end delivery tests need PostgreSQL (DATABASE_URL=postgres://...); scripts/test.sh starts one"
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
        return "end-to-end delivery tests need Redis (CELERY_BROKER_URL=redis://...); scripts/test.sh starts one"
    return ""


def require_services() -> None:
    reason = services_missing()
    if reason:
        pytest.skip(reason)


def xdist_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    digits = "".join(ch for ch in worker if ch.isdigit())
    return int(digits or 0)


def redis_db_number() -> int:
    """A Redis database per xdist worker (8..15), away from db 0 used by the rest of the suite."""
    return 8 + xdist_index() % 8


def broker_url(base: str | None = None, *, db: int | None = None) -> str:
    """``base`` (default: the suite's CELERY_BROKER_URL) with the database number replaced."""
    parts = urlsplit(base or os.environ["CELERY_BROKER_URL"])
    return urlunsplit((parts.scheme, parts.netloc, f"/{redis_db_number() if db is None else db}", "", ""))


def worker_database_url() -> str:
    """DATABASE_URL of the test database pytest-django created, for subprocesses."""
    from django.db import connection

    s = connection.settings_dict
    auth = quote(s.get("USER") or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"], safe="")
    host = s.get("HOST") or "127.0.0.1"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{quote(s['NAME'], safe='')}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate: Callable[[], object], what: str, *, timeout: float = 30.0, interval: float = 0.05,
               diagnose: Callable[[], str] | None = None) -> object:
    """Poll ``predicate`` until it returns something truthy; fail the test with ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = ("\n" + diagnose()) if diagnose else ""
            pytest.fail(f"timed out after {timeout:g} s waiting until {what}{extra}")
        time.sleep(interval)


# --- the test process's own Celery producer -----------------------------------------------

def _reset_producer_pools() -> None:
    # Forget the app's pools; kombu keeps one pool per broker URL process-wide and hands it back
    # when the URL is used again, so they must not be closed here.
    from siemhub.celery import app

    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def producer_broker(url: str) -> Iterator[None]:
    """Point this process's Celery producer (kicks on commit, sweep_pending) at ``url``.

    Celery reads CELERY_BROKER_URL from the environment before its configuration, and caches
    connection pools: so set the variable and drop the pools, and undo both afterwards.
    """
    old = os.environ.get("CELERY_BROKER_URL")
    _reset_producer_pools()
    os.environ["CELERY_BROKER_URL"] = url
    try:
        yield
    finally:
        _reset_producer_pools()
        if old is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = old


# --- subprocesses -------------------------------------------------------------------------

@dataclass
class Proc:
    """A subprocess in its own process group, logging to a file."""

    name: str
    popen: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def alive(self) -> bool:
        return self.popen.poll() is None

    def wait_for_log(self, text: str, timeout: float = 30.0) -> None:
        def seen() -> bool:
            if not self.alive() and text not in self.log():
                pytest.fail(f"{self.name} exited with {self.popen.returncode} before logging {text!r}:\n"
                            f"{self.log()[-4000:]}")
            return text in self.log()

        wait_until(seen, f"{self.name} logs {text!r}", timeout=timeout, diagnose=lambda: self.log()[-4000:])

    def kill(self) -> None:
        """SIGKILL the whole process group (main process and pool children), no goodbye."""
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait(timeout=10)

    def stop(self, grace_s: float = 5.0) -> None:
        """SIGTERM (Celery's warm shutdown), then SIGKILL what is left of the group."""
        if self.alive():
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                pass
        self.kill()


@dataclass
class E2E:
    """Starts workers and beat against the test database and this xdist worker's Redis db."""

    tmp_path: Path
    database_url: str
    broker_url: str
    procs: list[Proc] = field(default_factory=list)

    def env(self, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
        env.update(
            DJANGO_SETTINGS_MODULE="siemhub.settings",
            DATABASE_URL=self.database_url,
            CELERY_BROKER_URL=self.broker_url,
            SIEMHUB_KICK_ON_COMMIT="true",
            SIEMHUB_VAR_DIR=str(self.tmp_path / "var"),
            SIEM_DEAD_LETTER_PATH=str(self.tmp_path / "var" / "dead-letters.jsonl"),
            LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
            PYTHONDONTWRITEBYTECODE="1",
        )
        env.pop("CELERY_RESULT_BACKEND", None)
        env.update({k: str(v) for k, v in overrides.items()})
        return env

    def spawn(self, name: str, argv: list[str], env: dict[str, str]) -> Proc:
        log_path = self.tmp_path / f"{name}.log"
        with open(log_path, "ab") as log:
            popen = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        proc = Proc(name, popen, log_path)
        self.procs.append(proc)
        return proc

    def start_worker(self, name: str = "worker", *, concurrency: int = 2, loglevel: str = "info",
                     wait_ready: bool = True, **env: str) -> Proc:
        """``celery -A siemhub worker`` (prefork, as in production). ``env``: extra variables."""
        node = f"{name}-{uuid.uuid4().hex[:6]}@%h"
        argv = [sys.executable, "-m", "celery", "-A", "siemhub", "worker", "-l", loglevel, "-c", str(concurrency),
                "-n", node, "--without-gossip", "--without-mingle", "--without-heartbeat"]
        proc = self.spawn(name, argv, self.env(**env))
        if wait_ready:
            proc.wait_for_log(" ready.")
        return proc

    def start_beat(self, name: str = "beat", *, sweep_interval_s: float = 1.0, **env: str) -> Proc:
        """``celery -A siemhub beat`` with a short sweep interval (SIEMHUB_SWEEP_INTERVAL_S)."""
        (self.tmp_path / "var").mkdir(exist_ok=True)
        argv = [sys.executable, "-m", "celery", "-A", "siemhub", "beat", "-l", "info",
                "-s", str(self.tmp_path / f"{name}-schedule"), "--pidfile", str(self.tmp_path / f"{name}.pid")]
        proc = self.spawn(name, argv, self.env(SIEMHUB_SWEEP_INTERVAL_S=str(sweep_interval_s), **env))
        proc.wait_for_log("beat: Starting")
        return proc

    def logs(self) -> str:
        return "\n".join(f"===== {p.name} (pid {p.pid})\n{p.log()}" for p in self.procs)

    def wait_until(self, predicate: Callable[[], object], what: str, *, timeout: float = 30.0,
                   interval: float = 0.05) -> object:
        return wait_until(predicate, what, timeout=timeout, interval=interval,
                          diagnose=lambda: self.logs()[-6000:])

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            proc.kill()


def redis_client(url: str):
    import redis

    return redis.Redis.from_url(url)


@pytest.fixture
def e2e(transactional_db, tmp_path, settings) -> Iterator[E2E]:
    """Real services for one test: kicks on commit go to this xdist worker's Redis database.

    Depends on ``transactional_db`` so that it is torn down first: every subprocess is dead
    before pytest-django truncates the tables.
    """
    require_services()
    url = broker_url()
    client = redis_client(url)
    client.flushdb()
    settings.SIEMHUB_KICK_ON_COMMIT = True
    stack = E2E(tmp_path=tmp_path, database_url=worker_database_url(), broker_url=url)
    try:
        with producer_broker(url):
            yield stack
    finally:
        stack.stop_all()
        client.flushdb()
        client.close()
        _close_worker_connections()


def _close_worker_connections() -> None:
    """Killed workers' backends go away with their sockets; make sure none is left holding a
    lock before pytest-django truncates the tables."""
    from django.db import connection

    with connection.cursor() as cursor:
        for _ in range(100):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.05)
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


# --- a Redis server of our own (broker outage test) ----------------------------------------

class RedisServer:
    """A throwaway ``redis-server`` on 127.0.0.1 that a test may stop and start again on the same port."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.popen: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.popen = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)],
            stdout=open(self.workdir / "redis.log", "ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        client = redis_client(self.url)
        wait_until(lambda: _pings(client), f"redis-server on port {self.port} answers PING", timeout=10)
        client.close()
        return self

    def stop(self) -> None:
        if self.popen and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(timeout=10)
        self.popen = None


def _pings(client) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


class RedisMonitor:
    """Records every command Redis executes (MONITOR), to search the raw Celery messages."""

    def __init__(self, url: str) -> None:
        self.client = redis_client(url)
        self.lines: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._ready = threading.Event()

    def _run(self) -> None:
        try:
            with self.client.monitor() as monitor:
                self._ready.set()
                for item in monitor.listen():
                    self.lines.append(item.get("command", ""))
                    if self._stop.is_set():
                        return
        except Exception:  # the connection is closed on stop
            self._ready.set()

    def __enter__(self) -> "RedisMonitor":
        self._thread.start()
        self._ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.client.ping()  # wakes the listener so it sees the stop flag
        self._thread.join(5)
        self.client.close()
