"""A local SIEM stand-in on 127.0.0.1 that prints what siemhub delivers.

Accepts Splunk HEC (``/services/collector[/event]``, ``Authorization: Splunk <token>``) and
webhooks (any other path; the ``X-Siemhub-Signature`` HMAC or Standard Webhooks signature is
checked when ``--webhook-secret`` is given). Lets a new user watch delivery work without a SIEM:

    python manage.py fake_siem --port 8088 --hec-token 11111111-2222-3333-4444-555555555555
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.core.management.base import BaseCommand


def _hec_events(body: bytes) -> list:
    decoder, text, pos, out = json.JSONDecoder(), body.decode("utf-8"), 0, []
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return out
        obj, pos = decoder.raw_decode(text, pos)
        out.append(obj)


class Command(BaseCommand):
    help = "Run a local HEC + webhook receiver on 127.0.0.1 that prints every delivered event."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8088)
        parser.add_argument("--hec-token", default="", help="require this HEC token (default: accept any)")
        parser.add_argument("--webhook-secret", default="", help="verify webhook signatures with this secret")

    def handle(self, *args, **opts):
        command = self
        token, secret = opts["hec_token"], opts["webhook_secret"]

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *a):
                pass

            def _reply(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.startswith("/services/collector"):
                    auth = self.headers.get("Authorization", "")
                    if not auth.startswith("Splunk "):
                        return self._reply(401, {"text": "Token is required", "code": 2})
                    if token and auth[7:] != token:
                        return self._reply(403, {"text": "Invalid token", "code": 4})
                    try:
                        events = _hec_events(body)
                    except ValueError:
                        return self._reply(400, {"text": "Invalid data format", "code": 6})
                    for env in events:
                        command.stdout.write(f"[hec] {json.dumps(env.get('event'), ensure_ascii=False)}")
                    return self._reply(200, {"text": "Success", "code": 0})
                if secret and not self._signature_ok(body):
                    command.stdout.write("[webhook] REJECTED: bad signature")
                    return self._reply(401, {"error": "bad signature"})
                command.stdout.write(f"[webhook {self.path}] {body.decode('utf-8', 'replace')}")
                return self._reply(200, {"ok": True})

            def _signature_ok(self, body: bytes) -> bool:
                header = self.headers.get("X-Siemhub-Signature", "")
                if header:
                    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
                    return hmac.compare_digest(header, expected)
                sigs = self.headers.get("webhook-signature", "")
                key = secret.encode()
                if secret.startswith("whsec_"):
                    raw = secret[6:]
                    key = base64.b64decode(raw + "=" * (-len(raw) % 4))
                signed = f"{self.headers.get('webhook-id')}.{self.headers.get('webhook-timestamp')}.".encode() + body
                expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
                return any(s.split(",", 1)[-1] == expected for s in sigs.split())

        server = ThreadingHTTPServer(("127.0.0.1", opts["port"]), Handler)
        self.stdout.write(f"fake SIEM listening on http://127.0.0.1:{server.server_address[1]} "
                          "(HEC: /services/collector/event; webhook: any other path). Ctrl-C stops.")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
