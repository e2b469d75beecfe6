"""The benchmark's siemhub: settings for this process and its children, schema, API key, integration.

The benchmark process itself runs Django (to migrate, create the API key and the integration,
and to COPY the backlog); gunicorn and the Celery worker are subprocesses with the same settings.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

TOKEN = "b3e1c2d4-5a6b-4c7d-8e9f-0a1b2c3d4e5f"


def configure(workdir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Set this process's environment for Django and return the environment for subprocesses."""
    from cryptography.fernet import Fernet

    missing = [v for v in ("DATABASE_URL", "CELERY_BROKER_URL") if not os.environ.get(v)]
    if missing:
        raise SystemExit(f"bench: {', '.join(missing)} not set; run scripts/bench.sh (it starts PostgreSQL and Redis)")
    if not os.environ["DATABASE_URL"].startswith("postgres"):
        raise SystemExit("bench: DATABASE_URL must point at PostgreSQL")
    env = {
        "DJANGO_SETTINGS_MODULE": "siemhub.settings",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "SIEMHUB_VAR_DIR": str(workdir / "var"),
        "SIEM_DEAD_LETTER_PATH": str(workdir / "var" / "dead-letters.jsonl"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
        "SIEMHUB_KICK_ON_COMMIT": "true",
        **(extra or {}),
    }
    os.environ.update(env)
    return {**os.environ}


def setup_django() -> None:
    import django

    django.setup()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def api_key() -> str:
    from django.contrib.auth.models import Group, User

    from integrations.roles import ensure_roles
    from integrations.services import api_key_create

    ensure_roles()
    user, _ = User.objects.get_or_create(username="bench")
    user.groups.add(Group.objects.get(name="SIEM admins"))
    _, key = api_key_create(actor=None, user=user, name="bench")
    return key


def splunk_integration(receiver_port: int) -> str:
    """A Splunk HEC integration for the bench events only (audit events stay out of the counts)."""
    from integrations.services import integration_create

    integration = integration_create(
        actor=None, integration_type="splunk", name="bench HEC",
        config={"endpoint": f"http://127.0.0.1:{receiver_port}", "token": TOKEN, "index": "main"},
        filters={"events": ["bench.*"]},
    )
    return str(integration.pk)


def pending(integration_id: str) -> int:
    from delivery.selectors import pending_count

    return pending_count(integration_id)


def workdir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="siemhub-bench-"))
    (path / "var").mkdir()
    return path
