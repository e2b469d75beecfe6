"""A strict fake of a Sumo Logic HTTP Logs & Metrics Source (``POST /receiver/v1/http/<code>``).

As Sumo: an unknown collector code → 401; a method other than POST for compressed data → 400;
a metrics Content-Type (carbon2, graphite, prometheus) makes the lines metrics, so JSON lines
are rejected (400); the body must be UTF-8; every line is one message. ``X-Sumo-Fields`` must be
comma-separated ``key=value`` pairs: malformed or surplus pairs (over 30, values over 200
characters) are dropped and the 200 answer carries Sumo's JSON warning
(``code: bad.http.header.fields``), as the Sumo OpenTelemetry exporter documents.
"""

from __future__ import annotations

import json
from typing import Any

from tests.receivers.base import Recorded, Reply, StrictReceiver

METRIC_TYPES = (
    "application/vnd.sumologic.carbon2",
    "application/vnd.sumologic.graphite",
    "application/vnd.sumologic.prometheus",
)


class SumoReceiver(StrictReceiver):
    def __init__(self, *, code: str) -> None:
        super().__init__()
        self.code = code
        self.messages: list[dict[str, Any]] = []  # {"line", "category", "host", "name", "fields"}

    @property
    def source_url(self) -> str:
        return f"{self.url}/receiver/v1/http/{self.code}"

    def handle(self, req: Recorded) -> Reply:
        if not req.path.startswith("/receiver/v1/http/") or req.path.rsplit("/", 1)[-1] != self.code:
            return Reply(401, b"", {"Content-Type": "text/plain"})
        if req.method != "POST" and req.headers.get("content-encoding"):
            return Reply(400, b"Compressed data must be sent with POST", {"Content-Type": "text/plain"})
        if req.headers.get("content-type", "").split(";")[0].strip() in METRIC_TYPES:
            return Reply(400, json.dumps({"status": 400, "code": "metrics.parse", "message": "Unable to parse metrics"}).encode())
        try:
            text = req.body.decode("utf-8")
        except UnicodeDecodeError:
            return Reply(400, json.dumps({"status": 400, "code": "bad.encoding", "message": "Data must be UTF-8"}).encode())
        fields, dropped, too_long = self._fields(req.headers.get("x-sumo-fields", ""))
        for line in text.split("\n"):
            if line:
                self.messages.append(
                    {
                        "line": line,
                        "category": req.headers.get("x-sumo-category"),
                        "host": req.headers.get("x-sumo-host"),
                        "name": req.headers.get("x-sumo-name"),
                        "fields": fields,
                    }
                )
        if dropped or too_long:
            message = "X-Sumo-Fields Warning: " + " ".join(
                part
                for part in (
                    f"{too_long} key-value pairs are dropped as their values are exceeding max value length 200." if too_long else "",
                    f"{dropped} key-value pairs are dropped as they are malformed or exceeding maximum key-value pair number limit 30." if dropped else "",
                )
                if part
            )
            return Reply(200, json.dumps({"status": 200, "id": "YBLR1-11111-11111", "code": "bad.http.header.fields", "message": message}).encode())
        return Reply(200, b"", {"Content-Type": "text/plain"})

    @staticmethod
    def _fields(header: str) -> tuple[dict[str, str], int, int]:
        fields: dict[str, str] = {}
        dropped = too_long = 0
        for pair in filter(None, (p.strip() for p in header.split(","))):
            key, sep, value = pair.partition("=")
            if not sep or not key.strip():
                dropped += 1
            elif len(value) > 200:
                too_long += 1
            elif len(fields) >= 30:
                dropped += 1
            else:
                fields[key.strip()] = value.strip()
        return fields, dropped, too_long
