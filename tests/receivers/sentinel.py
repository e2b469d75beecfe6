"""Strict fakes of Azure's two log APIs, each on one 127.0.0.1 port.

:class:`SentinelReceiver` plays both Microsoft Entra ID's token endpoint
(``POST /{tenant}/oauth2/v2.0/token``) and the Logs Ingestion API
(``POST /dataCollectionRules/{dcr}/streams/{stream}?api-version=2023-01-01``):
- token: form-encoded client-credentials grant only; unknown tenant → 400 AADSTS90002, unknown
  client → 400 AADSTS700016, wrong secret → 401 ``invalid_client`` AADSTS7000215, wrong scope →
  400 AADSTS70011 (bodies shaped like Entra's: ``error``, ``error_description``, ``error_codes``);
- ingestion: bearer token it issued (else 401), role granted (else 403 ``OperationFailed``, the
  text Azure SDK's troubleshooting guide quotes), known DCR (else 404), ``Content-Type:
  application/json``, valid gzip when ``Content-Encoding: gzip``, at most 1,048,576 bytes both on
  the wire and decompressed (else 413 ``ContentLengthLimitExceeded`` with Azure's message), a
  JSON array of objects whose ``TimeGenerated`` parses and whose column types match the stream
  declaration; 204 on success. Columns not in the declaration are dropped, as Azure does, and
  listed in ``dropped_columns``. Error codes for 401/404/400 on ingestion are not in Microsoft's
  docs: the shapes ``{"error":{"code","message"}}`` are, the code names here are stand-ins.

:class:`SentinelLegacyReceiver` plays the HTTP Data Collector API (``POST /api/logs``) and
recomputes the SharedKey signature exactly as the docs specify.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs

from tests.receivers.base import Recorded, Reply, StrictReceiver

MAX_BYTES = 1_048_576
STREAM_COLUMNS: dict[str, str] = {
    "TimeGenerated": "datetime",
    "EventId": "string",
    "EventType": "string",
    "Severity": "string",
    "OrgId": "string",
    "AssetId": "string",
    "AssetName": "string",
    "AssetType": "string",
    "AssetTags": "dynamic",
    "Data": "dynamic",
    "OcsfClassUid": "int",
    "RawOCSF": "string",
}
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "int": (int,),
    "dynamic": (dict, list, str, int, float, bool),
    "datetime": (str,),
}


def aad_error(status: int, error: str, code: int, text: str) -> Reply:
    description = f"AADSTS{code}: {text}\r\nTrace ID: 0000\r\nCorrelation ID: 1111\r\nTimestamp: 2026-01-01 00:00:00Z"
    body = {"error": error, "error_description": description, "error_codes": [code], "error_uri": "https://login.microsoftonline.com/error?code=" + str(code)}
    return Reply(status, json.dumps(body).encode())


def az_error(status: int, code: str, message: str) -> Reply:
    return Reply(status, json.dumps({"error": {"code": code, "message": message}}).encode())


def _is_datetime(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


class SentinelReceiver(StrictReceiver):
    def __init__(
        self,
        *,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        dcr_rule_id: str,
        stream_name: str = "Custom-SiemhubEvents",
        has_role: bool = True,
        token_lifetime: int = 3599,
    ) -> None:
        super().__init__()
        self.tenant_id, self.client_id, self.client_secret = tenant_id, client_id, client_secret
        self.dcr_rule_id, self.stream_name = dcr_rule_id, stream_name
        self.has_role = has_role
        self.token_lifetime = token_lifetime
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.rows: list[dict[str, Any]] = []
        self.dropped_columns: set[str] = set()
        self._rows_lock = threading.Lock()

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    def handle(self, req: Recorded) -> Reply:
        if req.path.endswith("/oauth2/v2.0/token"):
            return self._token(req)
        if req.path.startswith("/dataCollectionRules/"):
            return self._ingest(req)
        return Reply(404, b"")

    def _token(self, req: Recorded) -> Reply:
        self.token_requests += 1
        if req.method != "POST" or req.headers.get("content-type", "").split(";")[0] != "application/x-www-form-urlencoded":
            return aad_error(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
        form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
        tenant = req.path.split("/")[1]
        if tenant != self.tenant_id:
            return aad_error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
        if form.get("grant_type") != "client_credentials":
            return aad_error(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
        if form.get("client_id") != self.client_id:
            return aad_error(400, "unauthorized_client", 700016, f"Application with identifier '{form.get('client_id')}' was not found in the directory.")
        if "client_secret" not in form:
            return aad_error(401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
        if not hmac.compare_digest(form["client_secret"], self.client_secret):
            return aad_error(
                401, "invalid_client", 7000215,
                f"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{self.client_id}'.",
            )
        if form.get("scope") not in ("https://monitor.azure.com//.default", "https://monitor.azure.com/.default"):
            return aad_error(400, "invalid_scope", 70011, f"The provided value for the input parameter 'scope' is not valid.")
        token = "eyJ0eXAi." + secrets.token_urlsafe(24)
        self.tokens.add(token)
        body = {"token_type": "Bearer", "expires_in": self.token_lifetime, "ext_expires_in": self.token_lifetime, "access_token": token}
        return Reply(200, json.dumps(body).encode())

    def _ingest(self, req: Recorded) -> Reply:
        if req.query.get("api-version") != ["2023-01-01"]:
            return az_error(400, "InvalidApiVersion", "The api-version query parameter is missing or not supported.")
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return az_error(401, "InvalidToken", "The authentication token provided is missing, invalid or expired.")
        parts = req.path.split("/")  # ['', 'dataCollectionRules', dcr, 'streams', stream]
        if len(parts) != 5 or parts[2] != self.dcr_rule_id:
            return az_error(404, "NotFound", f"Data collection rule with immutable Id '{parts[2] if len(parts) > 2 else ''}' not found.")
        if not self.has_role:
            return az_error(
                403, "OperationFailed",
                f"The authentication token provided does not have access to ingest data for the data collection rule with immutable Id '{self.dcr_rule_id}'.",
            )
        if parts[4] != self.stream_name:
            return az_error(404, "InvalidStream", f"Stream '{parts[4]}' is not declared in the data collection rule.")
        if req.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return az_error(415, "UnsupportedMediaType", "Content-Type must be application/json.")
        size = max(len(req.raw_body), len(req.body))
        if size > MAX_BYTES:
            return Reply(
                413,
                json.dumps({"error": {"code": "ContentLengthLimitExceeded", "message": f"Maximum allowed content length: {MAX_BYTES} bytes (1 MB). Provided content length: {size} bytes."}}).encode(),
            )
        try:
            rows = json.loads(req.body)
        except ValueError:
            return az_error(400, "InvalidPayload", "The request body is not valid JSON.")
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            return az_error(400, "InvalidPayload", "The request body must be a JSON array of objects.")
        for row in rows:
            if not _is_datetime(row.get("TimeGenerated")):
                return az_error(400, "InvalidPayload", "TimeGenerated is missing or is not a datetime.")
            for name, value in row.items():
                kind = STREAM_COLUMNS.get(name)
                if kind is None:
                    self.dropped_columns.add(name)
                elif value is not None and (not isinstance(value, _TYPES[kind]) or (kind == "int" and isinstance(value, bool))):
                    return az_error(400, "InvalidPayload", f"Column '{name}' expects type {kind}.")
        with self._rows_lock:
            self.rows.extend(rows)
        return Reply(204, b"", {"x-ms-request-id": "00000000-0000-0000-0000-000000000000"})


class SentinelLegacyReceiver(StrictReceiver):
    """HTTP Data Collector API: ``POST /api/logs?api-version=2016-04-01``, SharedKey checked."""

    def __init__(self, *, workspace_id: str, shared_key: str, max_skew_s: float = 900.0) -> None:
        super().__init__()
        self.workspace_id, self.shared_key = workspace_id, shared_key
        self.max_skew_s = max_skew_s
        self.records: list[tuple[str, dict[str, Any]]] = []  # (Log-Type, record)

    def expected_signature(self, content_length: int, date: str) -> str:
        to_sign = f"POST\n{content_length}\napplication/json\nx-ms-date:{date}\n/api/logs"
        key = base64.b64decode(self.shared_key)
        return base64.b64encode(hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).digest()).decode()

    def handle(self, req: Recorded) -> Reply:
        def err(status: int, code: str, message: str) -> Reply:
            return Reply(status, json.dumps({"Error": code, "Message": message}).encode())

        if req.path != "/api/logs":
            return Reply(404, b"")
        if "api-version" not in req.query:
            return err(400, "MissingApiVersion", "The API version wasn't specified.")
        if req.query["api-version"] != ["2016-04-01"]:
            return err(400, "InvalidApiVersion", "The API version specified wasn't recognized by the service.")
        ctype = req.headers.get("content-type")
        if not ctype:
            return err(400, "MissingContentType", "The content type wasn't specified.")
        if ctype != "application/json":
            return err(400, "UnsupportedContentType", "The content type wasn't set to application/json.")
        log_type = req.headers.get("log-type", "")
        if not log_type:
            return err(400, "MissingLogType", "The required value log type wasn't specified.")
        if len(log_type) > 100 or not log_type.replace("_", "").isalnum() or not log_type.isascii():
            return err(400, "InvalidLogType", "The log type specified contained special characters or numerics.")
        date = req.headers.get("x-ms-date", "")
        try:
            skew = abs(parsedate_to_datetime(date).timestamp() - time.time())
        except (TypeError, ValueError):
            return err(403, "InvalidAuthorization", "The x-ms-date header is missing or invalid.")
        auth = req.headers.get("authorization", "")
        expected = f"SharedKey {self.workspace_id}:{self.expected_signature(len(req.raw_body), date)}"
        if int(req.headers.get("content-length", -1)) != len(req.raw_body) or not hmac.compare_digest(auth, expected):
            return err(403, "InvalidAuthorization", "The service failed to authenticate the request. Verify that the workspace ID and connection key are valid.")
        if skew > self.max_skew_s:
            return err(403, "InvalidAuthorization", "The service failed to authenticate the request: the x-ms-date is too far from the current time.")
        try:
            records = json.loads(req.body)
        except ValueError:
            return err(400, "InvalidDataFormat", "An invalid JSON was submitted. The response body might contain more information about how to resolve the error.")
        if isinstance(records, dict):
            records = [records]
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            return err(400, "InvalidDataFormat", "The body must be a JSON object or an array of flat objects.")
        for record in records:
            if set(record) & {"tenant", "TimeGenerated", "RawData"}:
                return err(400, "InvalidDataFormat", "A record uses a reserved property name (tenant, TimeGenerated, RawData).")
            self.records.append((log_type, record))
        return Reply(200, b"")
