"""The Celery app. Tasks take ids only; configuration and secrets are read in the worker."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_process_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siemhub.settings")

app = Celery("siemhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _verify_key_at_worker_start(**_: object) -> None:
    from siemhub.startup import verify_encryption_key_or_exit

    verify_encryption_key_or_exit()


@worker_process_init.connect
def _reset_connections(**_: object) -> None:
    # Forked children must not share the parent's database connection.
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        conn.close()
