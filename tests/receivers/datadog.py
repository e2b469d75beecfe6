"""A strict fake of Datadog's log intake (``POST /api/v2/logs``).

Rejects as Datadog does: no ``DD-API-KEY`` → 401, an unknown key → 403 with the intake's
``{"errors":[{"status","title","detail"}]}`` body ("API key is missing or invalid", the text
Datadog's own logstash plugin tests grep for); a content type other than JSON / text / logplex
→ 415; a Content-Encoding other than identity / gzip / deflate → 415; more than 5,000,000 bytes
after decompression → 413; not a JSON array, more than 1000 entries, or an entry without a
string ``message`` → 400. Accepted requests get ``202 {}``.
"""

from __future__ import annotations

import json
from typing import Any

from tests.receivers.base import Recorded, Reply, StrictReceiver

MAX_BYTES = 5_000_000
MAX_ENTRIES = 1000


def dd_error(status: int, title: str, detail: str) -> Reply:
    return Reply(status, json.dumps({"errors": [{"status": str(status), "title": title, "detail": detail}]}).encode())


class DatadogReceiver(StrictReceiver):
    def __init__(self, *, api_key: str) -> None:
        super().__init__()
        self.api_key = api_key
        self.logs: list[dict[str, Any]] = []

    def handle(self, req: Recorded) -> Reply:
        if req.method != "POST" or req.path != "/api/v2/logs":
            return dd_error(404, "Not Found", "Not Found")
        key = req.headers.get("dd-api-key")
        if not key:
            return dd_error(401, "Unauthorized", "API key is missing")
        if key != self.api_key:
            return dd_error(403, "Forbidden", "API key is missing or invalid")
        ctype = req.headers.get("content-type", "").split(";")[0].strip()
        if ctype not in ("application/json", "text/plain", "application/logplex-1"):
            return dd_error(415, "Unsupported Media Type", f"Unsupported content type {ctype!r}")
        if req.headers.get("content-encoding", "identity") not in ("identity", "gzip", "deflate"):
            return dd_error(415, "Unsupported Media Type", "Unsupported content encoding")
        if len(req.body) > MAX_BYTES:
            return dd_error(413, "Payload Too Large", "Payload too large")
        try:
            logs = json.loads(req.body)
        except ValueError:
            return dd_error(400, "Bad Request", "Malformed JSON payload")
        if isinstance(logs, dict):
            logs = [logs]
        if not isinstance(logs, list) or len(logs) > MAX_ENTRIES:
            return dd_error(400, "Bad Request", f"Payload must be an array of at most {MAX_ENTRIES} logs")
        if not all(isinstance(log, dict) and isinstance(log.get("message"), str) for log in logs):
            return dd_error(400, "Bad Request", "Each log needs a string message")
        self.logs.extend(logs)
        return Reply(202, b"{}")
