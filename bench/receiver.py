"""A fast Splunk HEC receiver for the benchmark: asyncio, keep-alive, one process of its own.

It checks the token, parses every envelope of every request and counts events by id, so the
benchmark can prove that each event arrived exactly once. Event ids are made by the benchmark:
``PPPPPPPP-0000-4000-8000-SSSSSSSSSSSS`` (phase P, sequence number S), so one byte per expected
event is all the bookkeeping a million events need. Events whose ``data.t`` holds the client's
send time (Unix seconds) also give a latency sample (arrival - t).

Control endpoints (same port): ``POST /_reset`` ``{"phase": 3, "expected": 1000000}`` and
``GET /_stats``. Run: ``python -m bench.receiver --port 8088 --token T``.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import time

import orjson

OK = b'{"text":"Success","code":0}'


class Counter:
    def __init__(self) -> None:
        self.reset(0, 0)

    def reset(self, phase: int, expected: int) -> None:
        self.phase = phase
        self.expected = expected
        self.seen = bytearray(expected)
        self.unique = 0
        self.dupes = 0
        self.foreign = 0
        self.events = 0
        self.requests = 0
        self.bytes = 0
        self.first_arrival = 0.0
        self.last_arrival = 0.0
        self.latencies: list[float] = []

    def add(self, body: bytes) -> None:
        now = time.time()
        if not self.first_arrival:
            self.first_arrival = now
        self.last_arrival = now
        self.requests += 1
        self.bytes += len(body)
        seen, phase, expected = self.seen, self.phase, self.expected
        for line in body.split(b"\n"):
            if not line.strip():
                continue
            envelope = orjson.loads(line)
            event = envelope["event"]
            self.events += 1
            event_id = event["id"]
            try:
                p, s = int(event_id[:8], 16), int(event_id[24:], 16)
            except ValueError:
                self.foreign += 1
                continue
            if p != phase or s >= expected:
                self.foreign += 1
                continue
            if seen[s]:
                self.dupes += 1
                if seen[s] < 255:
                    seen[s] += 1
            else:
                seen[s] = 1
                self.unique += 1
            sent = event.get("data", {}).get("t")
            if sent:
                self.latencies.append(now - sent)

    def stats(self, *, latencies: bool = False) -> dict:
        out = {"phase": self.phase, "expected": self.expected, "unique": self.unique, "dupes": self.dupes,
               "foreign": self.foreign, "events": self.events, "requests": self.requests, "bytes": self.bytes,
               "first_arrival": self.first_arrival, "last_arrival": self.last_arrival}
        if latencies:
            out["latencies"] = self.latencies
        return out


class HecProtocol(asyncio.Protocol):
    def __init__(self, counter: Counter, token: bytes) -> None:
        self.counter = counter
        self.token = token
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
            headers = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length") or 0)
            if len(self.buf) < end + 4 + length:
                return
            body = bytes(self.buf[end + 4:end + 4 + length])
            del self.buf[:end + 4 + length]
            method, path = head[0].split(" ")[:2]
            self.respond(*self.handle(method, path, headers, body))

    def handle(self, method: str, path: str, headers: dict, body: bytes) -> tuple[int, bytes]:
        if path.startswith("/services/collector"):
            if headers.get("authorization", "").encode() != b"Splunk " + self.token:
                return 403, b'{"text":"Invalid token","code":4}'
            try:
                self.counter.add(body)
            except (ValueError, KeyError, TypeError):
                return 400, b'{"text":"Invalid data format","code":6}'
            return 200, OK
        if path == "/_stats":
            return 200, orjson.dumps(self.counter.stats())
        if path == "/_latencies":
            return 200, orjson.dumps(self.counter.stats(latencies=True))
        if path == "/_reset":
            spec = orjson.loads(body or b"{}")
            self.counter.reset(int(spec.get("phase", 0)), int(spec.get("expected", 0)))
            return 200, b"{}"
        return 404, b'{"text":"The requested URL was not found on this server.","code":404}'

    def respond(self, status: int, body: bytes) -> None:
        reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found"}[status]
        assert self.transport is not None
        self.transport.write(
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            .encode() + body
        )


async def serve(port: int, token: str) -> None:
    counter = Counter()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: HecProtocol(counter, token.encode()), "127.0.0.1", port, backlog=512)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.port, args.token))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
