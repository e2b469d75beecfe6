"""A real rsyslogd on 127.0.0.1 for end-to-end tests, plus strict parsers for what it receives.

``RsyslogReceiver`` writes a config into a private temp directory and runs
``rsyslogd -n -f <conf> -i <pidfile>`` in the foreground (its own workDirectory, no system
inputs) with four listeners on free ports: ``tcp`` (octet-counted or LF-framed, RFC 6587),
``udp`` (RFC 5426), ``tls`` (RFC 5425, ossl driver, server authentication only) and ``mtls``
(the client must present a certificate signed by the test CA). Certificates are generated at
start with ``cryptography``: a CA, a server certificate for IP 127.0.0.1 and a client
certificate. Every received message is written as one JSON line (rsyslog's parsed properties
plus ``raw``, the message exactly as received). Control-character escaping on reception is
turned off so that what arrives can be compared byte for byte with what was sent.

The parsers are deliberately strict (they reject what the specs do not allow) so that a
passing test means a conforming receiver reads the same fields:
- :func:`parse_cef`: header escapes ``\\|`` ``\\\\``; extension escapes ``\\=`` ``\\\\`` ``\\n`` ``\\r``;
  a key is ``[A-Za-z0-9]+`` before an unescaped ``=`` and after a single space.
- :func:`parse_leef`: LEEF 2.0 with siemhub's value escapes (``\\\\ \\r \\n \\t \\xHH``).
- :func:`parse_rfc5424`: RFC 5424 HEADER and STRUCTURED-DATA with PARAM-VALUE escapes.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RSYSLOGD = "/usr/sbin/rsyslogd"

CONFIG = """\
global(workDirectory="{d}/work" maxMessageSize="64k" parser.escapeControlCharactersOnReceive="off"
       defaultNetstreamDriverCAFile="{d}/ca.pem" defaultNetstreamDriverCertFile="{d}/server.pem"
       defaultNetstreamDriverKeyFile="{d}/server.key")
module(load="imtcp" maxSessions="100")
module(load="imudp")
template(name="jsonl" type="list" option.jsonf="on") {{
  property(outname="input" name="inputname" format="jsonf")
  property(outname="pri" name="pri" format="jsonf")
  property(outname="host" name="hostname" format="jsonf")
  property(outname="app" name="app-name" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="sd" name="structured-data" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
  property(outname="raw" name="rawmsg" format="jsonf")
}}
ruleset(name="recv") {{ action(type="omfile" file="{d}/messages.jsonl" template="jsonl") }}
input(type="imtcp" name="tcp" address="127.0.0.1" port="{tcp}" ruleset="recv")
input(type="imudp" name="udp" address="127.0.0.1" port="{udp}" ruleset="recv")
input(type="imtcp" name="tls" address="127.0.0.1" port="{tls}" ruleset="recv"
      streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imtcp" name="mtls" address="127.0.0.1" port="{mtls}" ruleset="recv"
      streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="x509/certvalid")
"""


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening(port: int, udp: bool, pid: int) -> bool:
    """Whether *process pid* has 127.0.0.1:port bound (UDP) or listening (TCP), from /proc.

    Checking the owner matters: a free port is chosen before rsyslogd binds it, and another
    process (a parallel test run) may take it meanwhile; rsyslogd then only logs the clash.
    """
    table = Path("/proc/net/udp" if udp else "/proc/net/tcp").read_text().splitlines()[1:]
    wanted, state = f"0100007F:{port:04X}", ("07" if udp else "0A")
    inodes = {cols[9] for cols in (line.split() for line in table) if cols[1] == wanted and cols[3] == state}
    if not inodes:
        return False
    try:
        fds = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    except OSError:
        return False
    return any(f"socket:[{inode}]" in fds for inode in inodes)


def make_pki(folder: Path) -> dict[str, str]:
    """CA, server (IP 127.0.0.1) and client certificates as PEM text; also written to ``folder``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def cert(subject: str, key: Any, issuer: str, signer: Any, ca: bool, extra: list[Any]) -> Any:
        builder = (
            x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )  # fmt: skip
        for ext in extra:
            builder = builder.add_extension(ext, critical=False)
        return builder.sign(signer, hashes.SHA256())

    def pem_key(key: Any) -> str:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()  # fmt: skip

    ca_key, server_key, client_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca = cert("siemhub test CA", ca_key, "siemhub test CA", ca_key, True, [])
    server = cert("127.0.0.1", server_key, "siemhub test CA", ca_key, False, [
        x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])])  # fmt: skip
    client = cert("siemhub-client", client_key, "siemhub test CA", ca_key, False,
                  [x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])])  # fmt: skip
    pki = {
        "ca": ca.public_bytes(serialization.Encoding.PEM).decode(),
        "server_cert": server.public_bytes(serialization.Encoding.PEM).decode(),
        "server_key": pem_key(server_key),
        "client_cert": client.public_bytes(serialization.Encoding.PEM).decode(),
        "client_key": pem_key(client_key),
    }
    for file, key in (("ca.pem", "ca"), ("server.pem", "server_cert"), ("server.key", "server_key")):
        (folder / file).write_text(pki[key])
        os.chmod(folder / file, 0o600)
    return pki


class RsyslogReceiver:
    """Start with ``start()`` (or as a context manager); ``stop()`` ends the process it started."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="siemhub-rsyslog-"))
        (self.dir / "work").mkdir()
        self.pki = make_pki(self.dir)
        self.proc: subprocess.Popen[bytes] | None = None
        self.ports: dict[str, int] = {}

    def start(self, attempts: int = 3) -> RsyslogReceiver:
        """Start rsyslogd; a restart keeps the ports (clients hold connections to them)."""
        restart = bool(self.ports)
        for _ in range(1 if restart else attempts):  # a free port can be taken before rsyslogd binds it
            if not self.ports:
                self.ports = {"tcp": free_port(socket.SOCK_STREAM), "udp": free_port(socket.SOCK_DGRAM),
                              "tls": free_port(socket.SOCK_STREAM), "mtls": free_port(socket.SOCK_STREAM)}  # fmt: skip
            conf = self.dir / "rsyslog.conf"
            conf.write_text(CONFIG.format(d=self.dir, **self.ports))
            log = open(self.dir / "rsyslogd.log", "ab")  # noqa: SIM115 - handed to the child
            self.proc = subprocess.Popen(
                [RSYSLOGD, "-n", "-f", str(conf), "-i", str(self.dir / "rsyslogd.pid")],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            log.close()
            if self._wait_listening(10.0):
                return self
            self.stop()
            if not restart:
                self.ports = {}
        raise RuntimeError(f"rsyslogd did not start: {self.log()[-2000:]}")

    def _wait_listening(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            pid = self.proc.pid
            if _listening(self.ports["udp"], True, pid) and all(
                _listening(self.ports[k], False, pid) for k in ("tcp", "tls", "mtls")
            ):
                return True
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> RsyslogReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    def log(self) -> str:
        path = self.dir / "rsyslogd.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def messages(self) -> list[dict[str, Any]]:
        path = self.dir / "messages.jsonl"
        if not path.exists():
            return []
        # surrogateescape: a test that sends junk (a TLS ClientHello to the plain port) must not
        # make every other test's messages unreadable.
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        # rsyslogd may be mid-write: only lines it has finished (ending in a newline) count.
        complete = text[: text.rfind("\n") + 1]
        return [json.loads(line) for line in complete.splitlines() if line.strip()]

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], count: int, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """The received messages matching ``predicate``, once there are at least ``count``."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.messages() if predicate(m)]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


# -- strict parsers ---------------------------------------------------------------------------


class ParseError(ValueError):
    pass


def deframe_octet_counting(stream: bytes) -> list[bytes]:
    """Split ``MSG-LEN SP SYSLOG-MSG`` frames (RFC 6587 §3.4.1); MSG-LEN counts bytes."""
    frames, pos = [], 0
    while pos < len(stream):
        space = stream.index(b" ", pos)
        length = stream[pos:space]
        if not length.isdigit() or length.startswith(b"0"):
            raise ParseError(f"bad MSG-LEN {length[:12]!r}")
        end = space + 1 + int(length)
        if end > len(stream):
            raise ParseError("frame runs past the end of the stream")
        frames.append(stream[space + 1 : end])
        pos = end
    return frames


_CEF_EXT_ESCAPES = {"\\": "\\", "=": "=", "n": "\n", "r": "\r"}


def parse_cef(text: str) -> tuple[list[str], dict[str, str]]:
    """``(header fields after "CEF:", extension dict)``; raises ParseError on anything non-spec."""
    if not text.startswith("CEF:") or "\n" in text or "\r" in text:
        raise ParseError("not a single-line CEF message")
    header, field, pos = [], [], 4
    while len(header) < 7:
        if pos >= len(text):
            raise ParseError("truncated CEF header")
        ch = text[pos]
        if ch == "\\":
            nxt = text[pos + 1 : pos + 2]
            if nxt not in ("\\", "|"):
                raise ParseError(f"invalid header escape \\{nxt}")
            field.append(nxt)
            pos += 2
        elif ch == "|":
            header.append("".join(field))
            field, pos = [], pos + 1
        else:
            field.append(ch)
            pos += 1
    return header, _parse_cef_extension(text[pos:])


def _parse_cef_extension(ext: str) -> dict[str, str]:
    # Decode into (char, escaped) pairs, then every unescaped "=" ends a key.
    chars: list[tuple[str, bool]] = []
    i = 0
    while i < len(ext):
        if ext[i] == "\\":
            nxt = ext[i + 1 : i + 2]
            if nxt not in _CEF_EXT_ESCAPES:
                raise ParseError(f"invalid extension escape \\{nxt}")
            chars.append((_CEF_EXT_ESCAPES[nxt], True))
            i += 2
        else:
            chars.append((ext[i], False))
            i += 1
    marks = [n for n, (ch, esc) in enumerate(chars) if ch == "=" and not esc]
    out: dict[str, str] = {}
    starts = []
    for mark in marks:
        start = mark
        while start > 0 and re.match(r"[A-Za-z0-9]", chars[start - 1][0]) and not chars[start - 1][1]:
            start -= 1
        if start == mark or (start > 0 and chars[start - 1] != (" ", False)):
            raise ParseError("unescaped '=' inside a value")
        starts.append((start, mark))
    if ext and (not starts or starts[0][0] != 0):
        raise ParseError("extension does not start with a key")
    for n, (start, mark) in enumerate(starts):
        key = "".join(ch for ch, _ in chars[start:mark])
        end = starts[n + 1][0] - 1 if n + 1 < len(starts) else len(chars)
        if key in out:
            raise ParseError(f"duplicate key {key}")
        out[key] = "".join(ch for ch, _ in chars[mark + 1 : end])
    return out


_LEEF_ESCAPE = re.compile(r"\\(\\|r|n|t|x[0-9a-f]{2})|\\")


def parse_leef(text: str) -> tuple[list[str], dict[str, str]]:
    """``(header fields after "LEEF:", attributes)`` of a LEEF 2.0 line with siemhub escapes."""
    if not text.startswith("LEEF:2.0|") or "\n" in text or "\r" in text:
        raise ParseError("not a single-line LEEF 2.0 message")
    parts = text.split("|", 6)
    if len(parts) != 7:
        raise ParseError("truncated LEEF header")
    header, body = parts[:6], parts[6]
    spec = header[5]
    delimiter = chr(int(spec.removeprefix("0x").removeprefix("x"), 16)) if len(spec) > 1 else spec
    attrs: dict[str, str] = {}
    for item in body.split(delimiter) if body else []:
        key, eq, value = item.partition("=")
        if not eq or not re.fullmatch(r"[A-Za-z0-9]+", key) or key in attrs:
            raise ParseError(f"bad LEEF attribute {item[:40]!r}")

        def unescape(m: re.Match[str]) -> str:
            code = m.group(1)
            if code is None:
                raise ParseError("invalid LEEF escape")
            return {"\\": "\\", "r": "\r", "n": "\n", "t": "\t"}.get(code) or chr(int(code[1:], 16))

        attrs[key] = _LEEF_ESCAPE.sub(unescape, value)
    return [p.removeprefix("LEEF:") for p in header], attrs


_HEADER = re.compile(r"^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) ")


def parse_rfc5424(raw: str) -> dict[str, Any]:
    """HEADER fields, ``sd`` as ``{sd_id: {name: value}}`` and ``msg`` of one RFC 5424 message."""
    match = _HEADER.match(raw)
    if not match:
        raise ParseError(f"not an RFC 5424 header: {raw[:60]!r}")
    out: dict[str, Any] = dict(
        zip(("pri", "timestamp", "hostname", "app", "procid", "msgid"), match.groups(), strict=False)
    )
    out["pri"] = int(out["pri"])
    pos, sd = match.end(), {}
    if raw.startswith("-", pos):
        pos += 1
    else:
        while raw.startswith("[", pos):
            pos, sd_id, params = _sd_element(raw, pos + 1)
            sd[sd_id] = params
        if not sd:
            raise ParseError("missing STRUCTURED-DATA")
    if pos < len(raw) and raw[pos] != " ":
        raise ParseError("no space between STRUCTURED-DATA and MSG")
    out["sd"], out["msg"] = sd, raw[pos + 1 :]
    return out


def _sd_element(raw: str, pos: int) -> tuple[int, str, dict[str, str]]:
    name = re.compile(r'[^ =\]"]{1,32}')
    m = name.match(raw, pos)
    if not m:
        raise ParseError("bad SD-ID")
    sd_id, pos, params = m.group(0), m.end(), {}
    while raw.startswith(" ", pos):
        m = name.match(raw, pos + 1)
        if not m or not raw.startswith('="', m.end()):
            raise ParseError("bad SD-PARAM")
        pos, value = m.end() + 2, []
        while True:
            if pos >= len(raw):
                raise ParseError("unterminated PARAM-VALUE")
            ch = raw[pos]
            if ch == "\\" and raw[pos + 1 : pos + 2] in ('"', "\\", "]"):
                value.append(raw[pos + 1])
                pos += 2
            elif ch in '"]' or ch == "\\":
                if ch != '"':
                    raise ParseError(f"unescaped {ch!r} in PARAM-VALUE")
                pos += 1
                break
            else:
                value.append(ch)
                pos += 1
        params[m.group(0)] = "".join(value)
    if not raw.startswith("]", pos):
        raise ParseError("unterminated SD-ELEMENT")
    return pos + 1, sd_id, params
