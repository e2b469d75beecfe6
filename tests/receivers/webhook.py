"""A strict webhook receiver: checks the signature the way a careful receiver would.

Written from the specifications, not from siemhub's connector, so that a passing test means an
independent receiver accepts what siemhub sends:

- ``hmac-sha256`` (the GitHub scheme): ``<header>: sha256=<hex HMAC-SHA256(secret, raw body)>``,
  compared in constant time;
- ``standard-webhooks`` (https://www.standardwebhooks.com, spec v1.0.0): ``webhook-id``,
  ``webhook-timestamp`` within ``tolerance_s`` of now, and ``webhook-signature`` holding at least
  one ``v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`` that matches, where the key is
  the base64 after ``whsec_``.

A request with a missing or wrong signature gets 401 and is not counted. Accepted bodies must be
a JSON array of event objects with an ``id``; ``events`` keeps them in arrival order.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from tests.receivers.base import Recorded, Reply, StrictReceiver


def standard_webhooks_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret (``whsec_`` + base64), per the spec."""
    if not secret.startswith("whsec_"):
        raise ValueError("a Standard Webhooks secret starts with whsec_")
    raw = secret[len("whsec_"):]
    return base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)


def standard_webhooks_signature(key: bytes, msg_id: str, timestamp: str, body: bytes) -> str:
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def hmac_sha256_header(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class WebhookReceiver(StrictReceiver):
    def __init__(
        self,
        *,
        scheme: str,
        secret: str,
        signature_header: str = "X-Siemhub-Signature",
        tolerance_s: float = 300.0,
        **kw,
    ) -> None:
        super().__init__(**kw)
        if scheme not in ("hmac-sha256", "standard-webhooks"):
            raise ValueError(f"unknown scheme {scheme!r}")
        self.scheme = scheme
        self.secret = secret
        self.signature_header = signature_header.lower()
        self.tolerance_s = tolerance_s
        self.events: list[dict] = []  # accepted events, in arrival order
        self.rejected: list[tuple[Recorded, str]] = []  # (request, why) for 4xx answers

    def _refuse(self, req: Recorded, status: int, why: str) -> Reply:
        with self._lock:
            self.rejected.append((req, why))
        return Reply(status, json.dumps({"error": why}).encode())

    def verify(self, req: Recorded) -> str:
        """'' when the signature is valid, else the reason it is not."""
        if self.scheme == "hmac-sha256":
            got = req.headers.get(self.signature_header, "")
            if not got:
                return f"missing {self.signature_header} header"
            if not hmac.compare_digest(got, hmac_sha256_header(self.secret, req.raw_body)):
                return "HMAC signature does not match the body"
            return ""
        msg_id = req.headers.get("webhook-id", "")
        timestamp = req.headers.get("webhook-timestamp", "")
        signatures = req.headers.get("webhook-signature", "")
        if not (msg_id and timestamp and signatures):
            return "missing webhook-id, webhook-timestamp or webhook-signature"
        try:
            sent_at = int(timestamp)
        except ValueError:
            return "webhook-timestamp is not an integer"
        if abs(time.time() - sent_at) > self.tolerance_s:
            return "webhook-timestamp outside the tolerance"
        expected = standard_webhooks_signature(standard_webhooks_key(self.secret), msg_id, timestamp, req.raw_body)
        if not any(hmac.compare_digest(candidate, expected) for candidate in signatures.split(" ")):
            return "no webhook-signature entry matches"
        return ""

    def handle(self, req: Recorded) -> Reply:
        if req.method != "POST":
            return self._refuse(req, 405, "POST only")
        why = self.verify(req)
        if why:
            return self._refuse(req, 401, why)
        if req.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return self._refuse(req, 415, "Content-Type must be application/json")
        try:
            events = json.loads(req.body)
        except (ValueError, UnicodeDecodeError):
            return self._refuse(req, 400, "body is not JSON")
        if not isinstance(events, list) or not all(isinstance(e, dict) and e.get("id") for e in events):
            return self._refuse(req, 400, "body must be a JSON array of events with an id")
        if req.headers.get("x-siemhub-event-count") != str(len(events)):
            return self._refuse(req, 400, "X-Siemhub-Event-Count does not match the body")
        with self._lock:
            self.events.extend(events)
        return Reply(200, b'{"ok":true}')

    def event_ids(self) -> list[str]:
        with self._lock:
            return [e["id"] for e in self.events]
