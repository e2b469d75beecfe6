"""Syslog sockets: UDP (RFC 5426), TCP (RFC 6587) and TLS (RFC 5425), with persistent connections.

One ``SyslogTransport`` lives per integration per worker process (``transports.transport_for``),
so a TCP/TLS connection is reused across batches. Frames arrive ready to send (the connector
frames and, for UDP, truncates them); the transport only moves bytes and reports what went wrong.

- **Success / failure.** ``TransportResponse(status_code=None, error="")`` when every frame was
  handed to the kernel; otherwise ``error`` holds an admin sentence without key material
  (``Connection refused by host:port``, ``TLS certificate verification failed for ...``) and the
  socket is closed, so the next send reconnects. The engine retries the whole request with its
  backoff: syslog has no acknowledgement, so at least once means resending what may be lost.
- **Dead connections.** Syslog servers never write to us, so a readable socket means the peer
  closed or reset it (or, on TLS 1.3, sent session tickets, which are consumed). That is checked
  before each reuse, which avoids the classic loss of writing a batch into a half-closed socket.
- **Reconnect backoff.** A refused or reset connect is retried inside the same send, at most
  :data:`CONNECT_ATTEMPTS` times, 0.1 s then 0.3 s apart (jittered). Longer waits are the engine's
  job: a transport-side cool-down would fail fast and burn the engine's attempts without trying.
- **TLS.** TLS 1.2+, server certificate and host name verified against the pasted ``ca_bundle``
  (PEM) or the system store; optional client certificate + key (PEM) for mutual TLS, written to a
  private temporary directory only while ``load_cert_chain`` reads them (the ssl module needs
  paths), then deleted. Under TLS 1.3 a server rejects a client certificate *after* our side
  of the handshake has finished, so a fresh connection waits up to :data:`TLS_SETTLE_S` for such
  an alert; the Test button then reports it instead of a false success.
- **UDP.** A connected socket, so an ICMP "port unreachable" surfaces as ECONNREFUSED; after the
  datagrams are sent the transport waits up to :data:`UDP_ICMP_WAIT_S` for one. Beyond that UDP
  is best effort: nothing is acknowledged.
- **Protocol mismatch.** A plain TCP server never answers a TLS ClientHello (handshake timeout →
  "is this a TLS syslog port?"); a TLS server drops our first plain-text write, which a fresh TCP
  connection checks for during :data:`FIRST_WRITE_WAIT_S`. Both show up in the Test button.
"""

from __future__ import annotations

import contextlib
import os
import random
import select
import shutil
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from delivery.connectors.base import OutboundRequest, TransportResponse
from siemhub.redaction import scrub

CONNECT_ATTEMPTS = 3
CONNECT_DELAYS_S = (0.1, 0.3)
TLS_SETTLE_S = 0.25
UDP_ICMP_WAIT_S = 0.05
FIRST_WRITE_WAIT_S = 0.05
PROTOCOLS = ("udp", "tcp", "tls")


class SyslogError(Exception):
    """A failure already worded for an admin."""


def client_context(ca_bundle: str = "", client_cert: str = "", client_key: str = "") -> ssl.SSLContext:
    """A verifying TLS client context from PEM text; raises SyslogError with an admin sentence."""
    try:
        ctx = ssl.create_default_context(cadata=ca_bundle) if ca_bundle else ssl.create_default_context()
    except (ssl.SSLError, ValueError):
        raise SyslogError("The CA bundle could not be loaded: paste the CA certificate(s) in PEM format") from None
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if client_cert or client_key:
        if not (client_cert and client_key):
            raise SyslogError("Mutual TLS needs both a client certificate and its private key")
        load_client_pair(ctx, client_cert, client_key)
    return ctx


def load_client_pair(ctx: ssl.SSLContext, cert_pem: str, key_pem: str) -> None:
    """``load_cert_chain`` from PEM text via files that exist only while it reads them."""
    folder = Path(tempfile.mkdtemp(prefix="siemhub-tls-"))  # mode 0700
    try:
        cert_path, key_path = folder / "cert.pem", folder / "key.pem"
        for path, text in ((cert_path, cert_pem), (key_path, key_pem)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(text if text.endswith("\n") else text + "\n")
        # A password callback that answers "none": an encrypted key must fail, never prompt.
        ctx.load_cert_chain(str(cert_path), str(key_path), password=lambda: b"")
    except (ssl.SSLError, ValueError, OSError):
        raise SyslogError(
            "The client certificate and key could not be loaded: both must be PEM, the key unencrypted, "
            "and they must belong together"
        ) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class SyslogTransport:
    """Sends the frames of OutboundRequests over one UDP socket or one TCP/TLS connection."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        protocol: str = "tcp",
        timeout: float = 10.0,
        ca_bundle: str = "",
        client_cert: str = "",
        client_key: str = "",
    ) -> None:
        self.host, self.port, self.protocol, self.timeout = host, int(port), protocol, float(timeout)
        self._tls_material = (ca_bundle, client_cert, client_key)
        self._context: ssl.SSLContext | None = None
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self.connects = 0  # connections (or UDP sockets) opened: tests read it to see reuse
        # How long to listen for a peer's verdict (per instance, so tests can be generous).
        self.tls_settle_s = TLS_SETTLE_S
        self.udp_icmp_wait_s = UDP_ICMP_WAIT_S
        self.first_write_wait_s = FIRST_WRITE_WAIT_S

    def __repr__(self) -> str:  # never show key material
        return f"<SyslogTransport {self.protocol}://{self.where}>"

    @property
    def where(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def send(self, request: OutboundRequest, headers: dict[str, str] | None = None) -> TransportResponse:
        """Send every frame, in order. ``headers`` are meaningless for syslog and ignored."""
        frames = request.frames or ((request.body,) if request.body else ())
        started = time.monotonic()
        with self._lock:
            try:
                if self.protocol not in PROTOCOLS:  # reported, not raised: the worker keeps going
                    raise SyslogError(f"Unknown syslog protocol {self.protocol!r}: choose udp, tcp or tls")
                if frames and self.protocol == "udp":
                    self._send_udp(frames)
                elif frames:
                    self._send_stream(b"".join(frames))  # one write: fewer syscalls and TLS records
                return TransportResponse(status_code=None, error="", elapsed_s=time.monotonic() - started)
            except (SyslogError, OSError) as exc:  # ssl.SSLError and socket.timeout are OSErrors
                self._close()
                text = str(exc) if isinstance(exc, SyslogError) else describe_error(exc, self.where, self)
                text = scrub(text, [m for m in self._tls_material[2:] if m])[:256]
                return TransportResponse(status_code=None, error=text, elapsed_s=time.monotonic() - started)

    def close(self) -> None:
        with self._lock:
            self._close()

    # -- TCP / TLS -------------------------------------------------------------------------

    def _send_stream(self, payload: bytes) -> None:
        reused = self._sock is not None and self._alive(self._sock)
        if not reused:
            self._close()
            self._sock = self._connect()
        try:
            self._sock.sendall(payload)  # type: ignore[union-attr]
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            if not reused:
                raise
            # The reused connection died between the liveness check and the write: once more on
            # a fresh one. Anything of this request that did arrive is then sent twice (at least once).
            self._close()
            self._sock = self._connect()
            self._sock.sendall(payload)
            reused = False
        if not reused and self.protocol == "tcp":
            self._check_first_write(self._sock)  # type: ignore[arg-type]

    def _check_first_write(self, sock: socket.socket) -> None:
        """A server that drops a fresh connection right after our first write did not take it:
        typically a TLS port reached with protocol ``tcp`` (our syslog text is not a handshake)."""
        try:
            answer = self._answer(sock, self.first_write_wait_s)
        except ConnectionResetError:
            answer = b""
        if answer is not None and answer.startswith(b"\x15\x03"):  # a TLS alert record
            raise SyslogError(f"{self.where} answered with TLS: set the protocol to tls")
        if answer == b"":
            raise SyslogError(
                f"{self.where} closed the connection right after the first message "
                "(if it is a TLS port, choose the protocol tls)"
            )

    def _connect(self) -> socket.socket:
        deadline = time.monotonic() + self.timeout
        for attempt in range(CONNECT_ATTEMPTS):
            try:
                return self._connect_once()
            except (ConnectionRefusedError, ConnectionResetError, ConnectionAbortedError):
                delay = CONNECT_DELAYS_S[min(attempt, len(CONNECT_DELAYS_S) - 1)] * random.uniform(0.8, 1.2)
                if attempt + 1 == CONNECT_ATTEMPTS or time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _connect_once(self) -> socket.socket:
        if self.protocol == "tls" and self._context is None:
            self._context = client_context(*self._tls_material)
        raw = socket.create_connection((self.host, self.port), timeout=self.timeout)
        self.connects += 1
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)  # notice silently dead peers
        if self.protocol != "tls":
            return raw
        try:
            tls = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[union-attr]
            if tls.version() == "TLSv1.3":
                self._await_rejection(tls)
        except TimeoutError:
            raw.close()  # a plain TCP syslog port reads our ClientHello as a message and never answers
            raise SyslogError(
                f"No TLS answer from {self.where} within {self.timeout:g} s: is this a TLS syslog port?"
            ) from None
        except BaseException:
            raw.close()
            raise
        return tls

    def _await_rejection(self, tls: ssl.SSLSocket) -> None:
        """Under TLS 1.3 the server's verdict on our certificate comes after the handshake."""
        if self._answer(tls, min(self.tls_settle_s, self.timeout)) == b"":
            raise SyslogError(f"{self.where} closed the TLS connection right after the handshake")

    def _alive(self, sock: socket.socket) -> bool:
        try:
            return self._answer(sock, 0) != b""  # a syslog server has nothing to say: data is dropped
        except (OSError, ValueError):
            return False

    def _answer(self, sock: socket.socket, wait: float) -> bytes | None:
        """What the peer sent within ``wait`` s, read without blocking. None: nothing (or only TLS
        records without data, e.g. session tickets); b"": it closed the connection. Errors (reset,
        ICMP port unreachable on UDP, a TLS alert) raise."""
        readable, _, _ = select.select([sock], [], [], wait)
        if not readable and not (isinstance(sock, ssl.SSLSocket) and sock.pending()):
            return None
        sock.setblocking(False)
        try:
            return sock.recv(65536)
        except (ssl.SSLWantReadError, BlockingIOError):
            return None
        finally:
            sock.settimeout(self.timeout)

    # -- UDP ---------------------------------------------------------------------------------

    def _send_udp(self, frames: Sequence[bytes]) -> None:
        if self._sock is None:
            family, kind, proto, _, address = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)[0]
            sock = socket.socket(family, kind, proto)
            sock.settimeout(self.timeout)
            sock.connect(address)  # connected: ICMP errors come back as ECONNREFUSED
            self._sock, self.connects = sock, self.connects + 1
        self._answer(self._sock, 0)  # raises an ICMP error left over from the previous request
        for datagram in frames:
            self._sock.send(datagram)
        self._answer(self._sock, self.udp_icmp_wait_s)  # and one caused by these datagrams

    def _close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is None:
            return
        if isinstance(sock, ssl.SSLSocket):
            with contextlib.suppress(OSError, ValueError):  # close_notify: the server sees a clean close
                sock.settimeout(0.5)
                sock.unwrap()
        with contextlib.suppress(OSError):
            sock.close()


def describe_error(exc: BaseException, where: str, transport: SyslogTransport | None = None) -> str:
    """An admin sentence for a socket / TLS failure at ``where`` (``host:port``)."""
    protocol = transport.protocol if transport else "tcp"
    timeout = transport.timeout if transport else 0
    if isinstance(exc, ssl.SSLCertVerificationError):
        hint = "" if "mismatch" in (exc.verify_message or "") else " (is the server's CA in ca_bundle?)"
        return f"TLS certificate verification failed for {where}: {exc.verify_message or 'untrusted'}{hint}"
    if isinstance(exc, ssl.SSLError):
        return _tls_reason(exc, where)
    if isinstance(exc, socket.gaierror):
        return f"Cannot resolve host {where.rsplit(':', 1)[0]}"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"Timed out after {timeout:g} s talking to {where}"
    if isinstance(exc, ConnectionRefusedError):
        if protocol == "udp":
            return f"{where} is not accepting UDP syslog (ICMP port unreachable)"
        return f"Connection refused by {where}"
    if isinstance(exc, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return f"Connection to {where} was closed by the server (reset)"
    if isinstance(exc, OSError) and exc.strerror:
        return f"Could not send to {where}: {exc.strerror}"
    return f"Could not send to {where}: {type(exc).__name__}"


def _tls_reason(exc: ssl.SSLError, where: str) -> str:
    reason = (exc.reason or "").upper()
    words = (exc.reason or "handshake failure").replace("_", " ").lower()
    if "CERTIFICATE_REQUIRED" in reason:
        return f"{where} requires a client certificate (mutual TLS): set client_cert and client_key"
    if any(k in reason for k in ("UNKNOWN_CA", "BAD_CERTIFICATE", "CERTIFICATE_UNKNOWN", "ACCESS_DENIED",
                                 "UNSUPPORTED_CERTIFICATE", "CERTIFICATE_EXPIRED", "CERTIFICATE_REVOKED",
                                 "DECRYPT_ERROR")):  # fmt: skip
        return f"{where} rejected the client certificate (TLS alert: {words})"
    if any(k in reason for k in ("WRONG_VERSION_NUMBER", "PACKET_LENGTH_TOO_LONG", "RECORD_LAYER_FAILURE")):
        return f"{where} did not answer with TLS: is this a plain TCP syslog port?"
    if isinstance(exc, ssl.SSLEOFError) or "EOF" in reason:
        return f"{where} closed the connection during the TLS handshake"
    return f"TLS handshake with {where} failed: {words}"
