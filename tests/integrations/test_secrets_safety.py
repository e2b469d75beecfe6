"""Secrets never leak: redaction helpers, the logging filter, the start-up key check."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from siemhub.logging import RedactingFilter
from siemhub.redaction import REDACTED, remember_secrets, sanitize_url, scrub, scrub_data

ROOT = Path(__file__).resolve().parents[2]


def test_scrub_by_value_and_auth_headers():
    remember_secrets(["sumo-collector-code-XYZ123"])
    text = "POST https://collectors.sumologic.com/receiver/v1/http/sumo-collector-code-XYZ123 failed"
    assert "XYZ123" not in scrub(text)
    assert scrub("Authorization: Splunk abc-def-ghi") == f"Authorization: {REDACTED}"
    assert "tok%2Fen" not in scrub("url?x=tok%2Fen", ["tok/en"])


def test_scrub_data_by_key_and_value():
    data = {"config": {"url": "https://h/p?key=hunter2-secret", "password": "pw"}, "secrets": {"token": "T0KEN!"}}
    clean = scrub_data(data, ["hunter2-secret"])
    assert clean == {"config": {"url": f"https://h/p?key={REDACTED}", "password": REDACTED},
                     "secrets": {"token": REDACTED}}


def test_sanitize_url_drops_credentials_and_query():
    assert sanitize_url("https://user:pw@example.com:8088/services/collector?token=x#f") == \
        "https://example.com:8088/services/collector"


def test_logging_filter_scrubs_message_args_and_tracebacks():
    remember_secrets(["super-secret-token-1"])
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "sending with %s", ("super-secret-token-1",), None)
    try:
        raise ValueError("boom super-secret-token-1")
    except ValueError:
        record.exc_info = sys.exc_info()
    RedactingFilter().filter(record)
    assert "super-secret-token-1" not in record.getMessage()
    assert "super-secret-token-1" not in record.exc_text and REDACTED in record.exc_text


def _check_key(env_key: str | None, db_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}", "SECRET_KEY": "x" * 40,
           "DJANGO_SETTINGS_MODULE": "siemhub.settings", "SIEMHUB_VAR_DIR": str(db_path.parent),
           "SIEMHUB_ENV_FILE": "/dev/null"}
    env.pop("FIELD_ENCRYPTION_KEY", None)
    if env_key is not None:
        env["FIELD_ENCRYPTION_KEY"] = env_key
    return subprocess.run([sys.executable, "manage.py", "check_encryption_key"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("rotation", [False, True])
def test_startup_refuses_missing_malformed_or_wrong_key(tmp_path, rotation):
    from cryptography.fernet import Fernet

    db = tmp_path / "db.sqlite3"
    k1, k2 = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "SECRET_KEY": "x" * 40, "FIELD_ENCRYPTION_KEY": k1,
           "DJANGO_SETTINGS_MODULE": "siemhub.settings", "SIEMHUB_VAR_DIR": str(tmp_path),
           "SIEMHUB_ENV_FILE": "/dev/null"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=300)
    assert _check_key(k1, db).returncode == 0  # first start writes the canary
    missing = _check_key(None, db)
    assert missing.returncode != 0 and "FIELD_ENCRYPTION_KEY is not set" in missing.stderr
    malformed = _check_key("not-a-key", db)
    assert malformed.returncode != 0 and "not a valid Fernet key" in malformed.stderr
    wrong = _check_key(k2, db)
    assert wrong.returncode != 0 and "cannot decrypt the secrets stored" in wrong.stderr
    if rotation:  # new key first, old key kept: accepted
        assert _check_key(f"{k2},{k1}", db).returncode == 0


@pytest.mark.django_db
def test_audit_keeps_non_secret_choices_but_redacts_secrets():
    from integrations.models import AuditEntry
    from integrations.services import integration_create

    integration_create(actor=None, integration_type="webhook", name="hook", config={
        "endpoint": "https://127.0.0.1:9/h?k=url-embedded-secret-1", "signature": "hmac-sha256",
        "secret": "url-embedded-secret-1", "auth": "basic", "username": "svc", "password": "pw-zzz-9"})
    changes = AuditEntry.objects.get().changes
    assert changes["config"]["signature"] == "hmac-sha256" and changes["config"]["auth"] == "basic"
    assert changes["config"]["endpoint"] == f"https://127.0.0.1:9/h?k={REDACTED}"
    assert changes["secrets"] == {"secret": REDACTED, "password": REDACTED}
