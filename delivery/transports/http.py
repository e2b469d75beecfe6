"""A hardened, pooled HTTP client for connectors.

Keep-alive connections are pooled per destination and reused across batches in a worker.
TLS verification is on by default (a pasted PEM CA bundle may replace the system store);
redirects are never followed (a 3xx is a failure, as Standard Webhooks requires, and it keeps
credentials from being replayed to another host); proxies from the environment are ignored
unless SIEMHUB_HTTP_TRUST_ENV is set. Error text never includes the URL or headers: a Sumo
Logic URL is itself a credential.
"""

from __future__ import annotations

import hashlib
import os
import ssl
import tempfile
import threading
import time
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter

from delivery.connectors.base import OutboundRequest, TransportResponse
from siemhub.redaction import sanitize_url, scrub

MAX_RESPONSE_BYTES = 1024 * 1024  # enough for any bulk response; more is not read
_ca_lock = threading.Lock()
_ca_dir: Path | None = None


def ca_bundle_path(pem: str) -> str:
    """Write a pasted PEM bundle to a private file once per process and return its path."""
    global _ca_dir
    digest = hashlib.sha256(pem.encode()).hexdigest()[:32]
    with _ca_lock:
        if _ca_dir is None:
            _ca_dir = Path(tempfile.mkdtemp(prefix="siemhub-ca-"))
        path = _ca_dir / f"{digest}.pem"
        if not path.exists():
            path.write_text(pem if pem.endswith("\n") else pem + "\n")
            os.chmod(path, 0o600)
    return str(path)


class HttpTransport:
    """Sends OutboundRequests over one pooled ``requests.Session``."""

    def __init__(self, *, timeout: float = 10.0, tls_verify: bool = True, ca_bundle: str = "") -> None:
        self.timeout = timeout
        self.verify: bool | str = ca_bundle_path(ca_bundle) if (tls_verify and ca_bundle) else tls_verify
        self.session = requests.Session()
        self.session.trust_env = os.environ.get("SIEMHUB_HTTP_TRUST_ENV", "") == "1"
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=4, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()

    def send(self, request: OutboundRequest, headers: dict[str, str] | None = None) -> TransportResponse:
        started = time.monotonic()
        try:
            resp = self.session.request(
                request.method,
                request.url,
                data=request.body,
                headers=dict(headers if headers is not None else request.headers),
                timeout=self.timeout,
                verify=self.verify,
                allow_redirects=False,
                stream=True,
            )
        except requests.RequestException as exc:
            return TransportResponse(
                status_code=None,
                error=describe_exception(exc, request.url, self.timeout),
                elapsed_s=time.monotonic() - started,
            )
        try:
            body = resp.raw.read(MAX_RESPONSE_BYTES, decode_content=True) or b""
        except Exception:  # a broken body after a status line: keep the status
            body = b""
        finally:
            resp.close()
        return TransportResponse(
            status_code=resp.status_code,
            body=body,
            headers={k.lower(): v for k, v in resp.headers.items()},
            elapsed_s=time.monotonic() - started,
        )


def describe_exception(exc: Exception, url: str, timeout: float) -> str:
    """An admin-readable reason, built without the URL's path, query or user info."""
    where = sanitize_url(url)
    host = where.split("/")[2] if where.count("/") >= 2 else where
    if isinstance(exc, requests.exceptions.SSLError):
        reason = _ssl_reason(exc)
        return scrub(f"TLS error talking to {host}: {reason}")[:256]
    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.ReadTimeout)):
        return f"Timed out after {timeout:g} s waiting for {host}"
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc)
        if "refused" in text.lower():
            return f"Connection refused by {host}"
        if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
            return f"Cannot resolve host {host}"
        if "Max retries" in text or "reset" in text.lower() or "aborted" in text.lower():
            return f"Connection to {host} failed (closed or reset)"
        return f"Connection to {host} failed"
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return "The configured URL is not valid"
    return f"Request to {host} failed: {type(exc).__name__}"


def _ssl_reason(exc: Exception) -> str:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return f"certificate verification failed ({current.verify_message})"
        if isinstance(current, ssl.SSLError):
            return current.reason or "handshake failed"
        current = current.__cause__ or current.__context__ or (current.args[0] if current.args and isinstance(current.args[0], BaseException) else None)
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "certificate verification failed"
    return "handshake failed"
