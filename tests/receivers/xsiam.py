"""A strict fake of a Cortex XSIAM custom HTTP collector (``POST /logs/v1/event``), JSON format.

Authentication as Palo Alto documents it (bodies from "Success and failure code responses"):
- ``standard``: ``Authorization`` must equal the key exactly (no scheme);
- ``advanced``: ``x-xdr-auth-id`` must be the key id, ``x-xdr-nonce`` 64 ``[A-Za-z0-9]``
  characters never seen before, ``x-xdr-timestamp`` epoch ms within ``max_skew_s`` of now, and
  ``Authorization`` = hex SHA-256 of key + nonce + timestamp, recomputed here;
anything else → 401 ``{"error": "Failed to validate authentication detail"}``.
The collector's compression setting must match: a gzip collector needs a valid gzip body
(``Content-Encoding: gzip``), an uncompressed one refuses it (400; Palo Alto documents "400 for
several causes" without the text, so the body here is a stand-in). Over 25 MB (on the wire or
decompressed) → 413; a line that is not a JSON object → 400. Accepted: 200 ``{"ok": "true"}``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from typing import Any

from tests.receivers.base import Recorded, Reply, StrictReceiver

MAX_BYTES = 25 * 1024 * 1024
_NONCE = re.compile(r"^[A-Za-z0-9]{64}$")
UNAUTHORIZED = Reply(401, json.dumps({"error": "Failed to validate authentication detail"}).encode())


class XsiamReceiver(StrictReceiver):
    def __init__(
        self,
        *,
        api_key: str,
        api_key_id: str = "",
        auth_mode: str = "standard",
        compression: str = "gzip",
        max_skew_s: float = 300.0,
    ) -> None:
        super().__init__()
        self.api_key, self.api_key_id, self.auth_mode = api_key, api_key_id, auth_mode
        self.compression, self.max_skew_s = compression, max_skew_s
        self.seen_nonces: set[str] = set()
        self.logs: list[dict[str, Any]] = []

    def _authorized(self, req: Recorded) -> bool:
        auth = req.headers.get("authorization", "")
        if self.auth_mode == "standard":
            return hmac.compare_digest(auth, self.api_key)
        nonce = req.headers.get("x-xdr-nonce", "")
        stamp = req.headers.get("x-xdr-timestamp", "")
        if req.headers.get("x-xdr-auth-id") != self.api_key_id or not _NONCE.match(nonce) or not stamp.isdigit():
            return False
        if abs(int(stamp) / 1000 - time.time()) > self.max_skew_s or nonce in self.seen_nonces:
            return False
        expected = hashlib.sha256(f"{self.api_key}{nonce}{stamp}".encode()).hexdigest()
        if not hmac.compare_digest(auth, expected):
            return False
        self.seen_nonces.add(nonce)
        return True

    def handle(self, req: Recorded) -> Reply:
        if req.method != "POST" or req.path != "/logs/v1/event":
            return Reply(404, json.dumps({"error": "Not found"}).encode())
        if not self._authorized(req):
            return UNAUTHORIZED
        gzipped = req.headers.get("content-encoding", "").lower() == "gzip"
        if self.compression == "gzip" and not gzipped:
            return Reply(400, json.dumps({"error": "Expected gzip-compressed data"}).encode())
        if self.compression == "none" and gzipped:
            return Reply(400, json.dumps({"error": "Unexpected compressed data"}).encode())
        if max(len(req.raw_body), len(req.body)) > MAX_BYTES:
            return Reply(413, json.dumps({"error": "Request Entity Too Large"}).encode())
        ctype = req.headers.get("content-type", "").split(";")[0].strip()
        if ctype not in ("application/json", "text/plain"):
            return Reply(400, json.dumps({"error": f"Unsupported content type {ctype}"}).encode())
        logs = []
        for line in req.body.decode("utf-8").split("\n"):
            if not line.strip():
                continue
            try:
                log = json.loads(line)
            except ValueError:
                return Reply(400, json.dumps({"error": "Failed to parse JSON log"}).encode())
            if not isinstance(log, dict):
                return Reply(400, json.dumps({"error": "Failed to parse JSON log"}).encode())
            logs.append(log)
        self.logs.extend(logs)
        return Reply(200, json.dumps({"ok": "true"}).encode())
