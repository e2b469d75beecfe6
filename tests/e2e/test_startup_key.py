"""The FIELD_ENCRYPTION_KEY self-check, from the outside: real processes against a real database.

django-encrypted-model-fields returns the ciphertext when it cannot decrypt (ENVIRONMENT.md §1),
so a worker started with the wrong key would send ciphertext as the SIEM token. Every siemhub
process must refuse to start instead: ``manage.py check_encryption_key``, the Celery worker and
the web server are started here as subprocesses with a wrong, a missing and a malformed key.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from tests.e2e.worker import E2E, ROOT, e2e  # noqa: F401
from tests.receivers.splunk import HecReceiver

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TOKEN = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
WRONG_KEY = Fernet.generate_key().decode()
NOT_SET = "FIELD_ENCRYPTION_KEY is not set"
MALFORMED = "is not a valid Fernet key"
WRONG = "cannot decrypt the secrets stored in this database"


@pytest.fixture
def stored_secret(e2e: E2E):
    """An integration whose token is encrypted with the suite's key (the right one)."""
    from siemhub.startup import verify_encryption_key
    from tests.conftest import make_integration

    with HecReceiver(token=TOKEN) as hec:
        integration = make_integration("splunk", config={"endpoint": hec.url}, secrets={"token": TOKEN})
        verify_encryption_key()  # stores the canary, as the first process start does
        yield integration, hec


def manage(e2e: E2E, *args: str, key: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=e2e.env(FIELD_ENCRYPTION_KEY=key),
                          capture_output=True, text=True, timeout=60)


def test_check_command_accepts_the_right_key_and_a_rotation_list(e2e: E2E, stored_secret):
    import os

    right = os.environ["FIELD_ENCRYPTION_KEY"]
    ok = manage(e2e, "check_encryption_key", key=right)
    assert ok.returncode == 0 and "FIELD_ENCRYPTION_KEY ok" in ok.stdout, ok.stderr
    rotated = manage(e2e, "check_encryption_key", key=f"{WRONG_KEY},{right}")  # new key first, old still decrypts
    assert rotated.returncode == 0, rotated.stderr


@pytest.mark.parametrize(("key", "message"), [(WRONG_KEY, WRONG), ("", NOT_SET), ("not-a-fernet-key", MALFORMED)],
                         ids=["wrong", "missing", "malformed"])
def test_check_command_refuses_a_bad_key(e2e: E2E, stored_secret, key, message):
    result = manage(e2e, "check_encryption_key", key=key)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr  # a clear sentence, not a stack trace
    assert TOKEN not in result.stdout + result.stderr


@pytest.mark.parametrize(("key", "message"), [(WRONG_KEY, WRONG), ("", NOT_SET), ("not-a-fernet-key", MALFORMED)],
                         ids=["wrong", "missing", "malformed"])
def test_worker_refuses_to_start_with_a_bad_key_and_sends_nothing(e2e: E2E, stored_secret, key, message):
    from delivery import emit

    integration, hec = stored_secret
    emit({"event": "finding.new", "data": {"title": "must not leave with a ciphertext token"}})
    worker = e2e.start_worker("bad-key-worker", wait_ready=False, FIELD_ENCRYPTION_KEY=key)
    try:
        worker.popen.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the worker kept running with a bad key:\n{worker.log()[-3000:]}")
    log = worker.log()
    assert worker.popen.returncode != 0
    assert "refusing to start" in log and message in log, log[-3000:]
    assert " ready." not in log
    assert hec.received == []  # nothing was sent (with the ciphertext as the token, or at all)


def test_web_server_refuses_to_serve_with_the_wrong_key(e2e: E2E, stored_secret):
    import time

    import requests

    from tests.e2e.worker import free_port

    port = free_port()
    proc = e2e.spawn("gunicorn", [sys.executable, "-m", "gunicorn", "siemhub.wsgi", "--bind", f"127.0.0.1:{port}",
                                  "--workers", "1"], e2e.env(FIELD_ENCRYPTION_KEY=WRONG_KEY))
    e2e.wait_until(lambda: "refusing to start" in proc.log(), "the web worker refuses the key")
    assert WRONG in proc.log()
    try:
        answer = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=3).status_code
    except requests.RequestException:
        answer = None
    assert answer is None, f"the web server answered HTTP {answer} with the wrong key"
    deadline = time.monotonic() + 8
    while proc.alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    # siemhub/wsgi.py exits with 4 (gunicorn's APP_LOAD_ERROR), so the master gives up instead
    # of booting a new refusing worker every second.
    assert not proc.alive(), (f"gunicorn kept respawning the refusing worker "
                              f"({proc.log().count('refusing to start')} refusals)")
    assert proc.popen.returncode != 0
