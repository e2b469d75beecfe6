"""A small threaded HTTP receiver on 127.0.0.1 for tests, standing in for a SaaS SIEM.

Vendor receivers subclass :class:`StrictReceiver` and implement ``handle(req)`` returning a
:class:`Reply`. They should reject what the real service rejects (wrong auth, wrong framing,
over-size bodies) so a passing test means the real service would accept the request too.
Every request is recorded (``received``) with its exact bytes, after gunzip when the request
was gzip-encoded (``raw_body`` keeps the bytes on the wire).
"""

from __future__ import annotations

import gzip
import threading
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    raw_body: bytes
    body: bytes  # decompressed


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class StrictReceiver:
    """Base receiver. Override ``handle``; or pass ``responder`` to script answers
    (a callable taking the Recorded request and returning a Reply or None for default)."""

    def __init__(self, responder: Callable[[Recorded], Reply | None] | None = None) -> None:
        self.received: list[Recorded] = []
        self.accepted: list[Recorded] = []
        self.responder = responder
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                body = raw
                encoding = headers.get("content-encoding", "").lower()
                try:
                    if encoding == "gzip":
                        body = gzip.decompress(raw)
                    elif encoding == "deflate":
                        body = zlib.decompress(raw)
                except (OSError, zlib.error):
                    self._reply(Reply(400, b'{"error":"body is not valid ' + encoding.encode() + b'"}'))
                    return
                parts = urlsplit(self.path)
                rec = Recorded(self.command, parts.path, parse_qs(parts.query), headers, raw, body)
                with receiver._lock:
                    receiver.received.append(rec)
                reply = receiver.responder(rec) if receiver.responder else None
                if reply is None:
                    reply = receiver.handle(rec)
                if 200 <= reply.status < 300:
                    with receiver._lock:
                        receiver.accepted.append(rec)
                self._reply(reply)

            def _reply(self, reply: Reply) -> None:
                self.send_response(reply.status)
                hdrs = {"Content-Type": "application/json", **reply.headers}
                for k, v in hdrs.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if reply.body:
                    self.wfile.write(reply.body)

            do_POST = do_PUT = do_GET = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def handle(self, req: Recorded) -> Reply:
        return Reply(200, b"{}")

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "StrictReceiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "StrictReceiver":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
