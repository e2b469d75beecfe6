"""Transports move OutboundRequests to a destination: HTTP(S) or syslog sockets.

One transport instance per integration configuration is kept per worker process, so that
keep-alive HTTP connections and syslog TCP/TLS sockets are reused across batches.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any, Protocol

import orjson

from delivery.connectors.base import Connector, OutboundRequest, TransportResponse


class Transport(Protocol):
    def send(self, request: OutboundRequest, headers: dict[str, str] | None = None) -> TransportResponse: ...

    def close(self) -> None: ...


_lock = threading.Lock()
_cache: dict[str, tuple[str, Transport]] = {}


def _fingerprint(options: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(options, option=orjson.OPT_SORT_KEYS)).hexdigest()


def build_transport(connector: Connector) -> Transport:
    options = connector.transport_options()
    if connector.transport == "syslog":
        from delivery.transports.syslog import SyslogTransport

        return SyslogTransport(**options)
    from delivery.transports.http import HttpTransport

    return HttpTransport(**options)


def transport_for(key: str, connector: Connector) -> Transport:
    """The cached transport for ``key`` (an integration id), rebuilt when its options change."""
    fingerprint = _fingerprint(connector.transport_options())
    with _lock:
        cached = _cache.get(key)
        if cached and cached[0] == fingerprint:
            return cached[1]
        if cached:
            cached[1].close()
        transport = build_transport(connector)
        _cache[key] = (fingerprint, transport)
        return transport


def drop_transport(key: str) -> None:
    with _lock:
        cached = _cache.pop(key, None)
    if cached:
        cached[1].close()
