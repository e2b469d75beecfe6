"""A strict Splunk HEC stand-in: checks what real HEC checks, answers with HEC codes."""

from __future__ import annotations

import json

from tests.receivers.base import Recorded, Reply, StrictReceiver


def parse_concatenated(body: bytes) -> list[dict]:
    """Parse concatenated JSON objects the way HEC does (whitespace allowed between)."""
    decoder = json.JSONDecoder()
    text = body.decode("utf-8")
    out, pos = [], 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if pos >= len(text):
            return out
        obj, pos = decoder.raw_decode(text, pos)
        out.append(obj)


class HecReceiver(StrictReceiver):
    def __init__(self, token: str = "11111111-2222-3333-4444-555555555555", indexes=("main", "security"), **kw):
        super().__init__(**kw)
        self.token = token
        self.indexes = set(indexes)
        self.events: list[dict] = []  # accepted envelopes, in arrival order

    def handle(self, req: Recorded) -> Reply:
        if not req.path.startswith("/services/collector"):
            return Reply(404, b'{"text":"The requested URL was not found on this server.","code":404}')
        auth = req.headers.get("authorization", "")
        if not auth:
            return Reply(401, b'{"text":"Token is required","code":2}')
        if not auth.startswith("Splunk "):
            return Reply(401, b'{"text":"Invalid authorization","code":3}')
        if auth[len("Splunk "):] != self.token:
            return Reply(403, b'{"text":"Invalid token","code":4}')
        if not req.body.strip():
            return Reply(400, b'{"text":"No data","code":5}')
        try:
            envelopes = parse_concatenated(req.body)
        except (ValueError, UnicodeDecodeError):
            return Reply(400, b'{"text":"Invalid data format","code":6,"invalid-event-number":0}')
        for number, env in enumerate(envelopes):
            if not isinstance(env, dict) or "event" not in env:
                return Reply(400, json.dumps({"text": "Event field is required", "code": 12, "invalid-event-number": number}).encode())
            if env["event"] in ("", None):
                return Reply(400, json.dumps({"text": "Event field cannot be blank", "code": 13, "invalid-event-number": number}).encode())
            if "time" in env and not isinstance(env["time"], (int, float)):
                return Reply(400, json.dumps({"text": "Invalid data format", "code": 6, "invalid-event-number": number}).encode())
            if env.get("index") and env["index"] not in self.indexes:
                return Reply(400, json.dumps({"text": "Incorrect index", "code": 7, "invalid-event-number": number}).encode())
        with self._lock:
            self.events.extend(envelopes)
        return Reply(200, b'{"text":"Success","code":0}')

    def event_ids(self) -> list[str]:
        return [e["event"]["id"] for e in self.events]
