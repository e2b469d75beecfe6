"""Receivers that record: siemhub's own logins become events (auth.login.succeeded/failed)."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

logger = logging.getLogger(__name__)


def _client_ip(request: Any) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR")


def _emit(event: dict[str, Any]) -> None:
    from delivery.services import event_emit

    try:
        event_emit([event])
    except Exception:  # never let event recording break a login
        logger.exception("could not record %s", event["type"])


@receiver(user_logged_in)
def _login_succeeded(sender: Any, request: Any, user: Any, **_: Any) -> None:
    _emit({"type": "auth.login.succeeded", "severity": "info",
           "data": {"user": user.get_username(), "user_id": str(user.pk), "src_ip": _client_ip(request),
                    "service": "siemhub"}})


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **_: Any) -> None:
    # Only the user name is kept: the credentials dict also holds the (masked) password.
    username = str(credentials.get("username") or "")[:150]
    _emit({"type": "auth.login.failed", "severity": "medium",
           "data": {"user": username, "src_ip": _client_ip(request), "service": "siemhub"}})
