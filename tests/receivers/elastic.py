"""A strict fake of Elasticsearch's Bulk API (``POST [/{index}]/_bulk``).

It rejects what Elasticsearch rejects, with ES's status codes and error bodies:
- no / wrong credentials → 401 ``security_exception`` (+ ``WWW-Authenticate``);
- a Content-Type other than JSON / NDJSON → 406;
- a body over ``max_content_length`` → 413 (ES answers with an empty body);
- a body whose last line has no ``\\n`` → 400 ``illegal_argument_exception``;
- a malformed action line → 400 ``x_content_parse_exception`` / ``illegal_argument_exception``;
- per item: a source line that is not a JSON object → 400 ``document_parsing_exception``; a
  missing ingest pipeline → 400; ``create`` on an existing ``_id`` → 409
  ``version_conflict_engine_exception``; a non-``create`` action or a missing ``@timestamp`` on
  a data stream → 400.
Every 2xx answer carries ``X-Elastic-Product: Elasticsearch`` as the real server does.
``item_status`` scripts per-document failures: ``{doc_id: (status, type, reason)}``.
"""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

from tests.receivers.base import Recorded, Reply, StrictReceiver

PRODUCT = {"X-Elastic-Product": "Elasticsearch"}


def es_error(status: int, etype: str, reason: str, **extra: Any) -> bytes:
    cause = {"type": etype, "reason": reason, **extra}
    return json.dumps({"error": {"root_cause": [cause], **cause}, "status": status}).encode()


class ElasticReceiver(StrictReceiver):
    def __init__(
        self,
        *,
        api_key: tuple[str, str] | None = None,
        basic: tuple[str, str] | None = None,
        pipelines: tuple[str, ...] = (),
        data_streams: tuple[str, ...] = (),
        max_content_length: int = 100 * 1024 * 1024,
        item_status: dict[str, tuple[int, str, str]] | None = None,
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.basic = basic
        self.pipelines = set(pipelines)
        self.data_streams = set(data_streams)
        self.max_content_length = max_content_length
        self.item_status = item_status or {}
        self.docs: dict[tuple[str, str], dict[str, Any]] = {}
        self._docs_lock = threading.Lock()

    # -- auth ---------------------------------------------------------------------------
    def _authorized(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return False
        if scheme == "ApiKey" and self.api_key:
            return decoded == f"{self.api_key[0]}:{self.api_key[1]}"
        if scheme == "Basic" and self.basic:
            return decoded == f"{self.basic[0]}:{self.basic[1]}"
        return False

    def handle(self, req: Recorded) -> Reply:
        if req.method not in ("POST", "PUT") or not req.path.endswith("/_bulk"):
            return Reply(400, es_error(400, "illegal_argument_exception", f"no handler found for uri [{req.path}] and method [{req.method}]"))
        auth = req.headers.get("authorization", "")
        if not auth:
            return Reply(
                401,
                es_error(401, "security_exception", f"missing authentication credentials for REST request [{req.path}]"),
                {"WWW-Authenticate": 'Basic realm="security" charset="UTF-8", ApiKey'},
            )
        if not self._authorized(auth):
            return Reply(
                401,
                es_error(401, "security_exception", "unable to authenticate with provided credentials"),
                {"WWW-Authenticate": 'Basic realm="security" charset="UTF-8", ApiKey'},
            )
        ctype = req.headers.get("content-type", "").split(";")[0].strip()
        if ctype not in ("application/json", "application/x-ndjson"):
            return Reply(406, json.dumps({"error": f"Content-Type header [{ctype}] is not supported", "status": 406}).encode())
        if len(req.body) > self.max_content_length:
            return Reply(413, b"")
        if not req.body.endswith(b"\n"):
            return Reply(400, es_error(400, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]"))
        pipeline = (req.query.get("pipeline") or [None])[0]
        lines = req.body.split(b"\n")[:-1]
        items: list[dict[str, Any]] = []
        i = 0
        while i < len(lines):
            try:
                action = json.loads(lines[i])
            except ValueError:
                return Reply(400, es_error(400, "x_content_parse_exception", f"[1:1] Malformed action/metadata line [{i + 1}], expected START_OBJECT"))
            if not isinstance(action, dict) or len(action) != 1:
                return Reply(400, es_error(400, "illegal_argument_exception", f"Malformed action/metadata line [{i + 1}], expected a simple value for field [_index]"))
            op, meta = next(iter(action.items()))
            if op not in ("index", "create", "update", "delete"):
                return Reply(400, es_error(400, "illegal_argument_exception", f"Malformed action/metadata line [{i + 1}], expected field [create], [delete], [index] or [update] but found [{op}]"))
            if op != "delete":
                i += 1
                if i >= len(lines):
                    return Reply(400, es_error(400, "action_request_validation_exception", "Validation Failed: 1: no requests added;"))
            with self._docs_lock:
                items.append(self._apply(op, meta, lines[i] if op != "delete" else b"", pipeline))
            i += 1
        if not items:
            return Reply(400, es_error(400, "action_request_validation_exception", "Validation Failed: 1: no requests added;"))
        errors = any(next(iter(it.values()))["status"] >= 300 for it in items)
        body = json.dumps({"took": 3, "errors": errors, "items": items}).encode()
        return Reply(200, body, PRODUCT)

    def _apply(self, op: str, meta: dict[str, Any], source: bytes, pipeline: str | None) -> dict[str, Any]:
        index, doc_id = meta.get("_index", ""), str(meta.get("_id", ""))
        head = {"_index": index, "_id": doc_id}

        def fail(status: int, etype: str, reason: str) -> dict[str, Any]:
            return {op: {**head, "status": status, "error": {"type": etype, "reason": reason}}}

        if doc_id in self.item_status:
            status, etype, reason = self.item_status[doc_id]
            return fail(status, etype, reason)
        if pipeline and pipeline not in self.pipelines:
            return fail(400, "illegal_argument_exception", f"pipeline with id [{pipeline}] does not exist")
        try:
            doc = json.loads(source)
        except ValueError:
            return fail(400, "document_parsing_exception", "[1:2] failed to parse: Unexpected character")
        if not isinstance(doc, dict):
            return fail(400, "document_parsing_exception", "[1:1] failed to parse: source is not an object")
        if index in self.data_streams:
            if op != "create":
                return fail(400, "illegal_argument_exception", "only write ops with an op_type of create are allowed in data streams")
            if "@timestamp" not in doc:
                return fail(400, "document_parsing_exception", "[1:1] failed to parse: data stream timestamp field [@timestamp] is missing")
        if op == "create" and (index, doc_id) in self.docs:
            return fail(409, "version_conflict_engine_exception", f"[{doc_id}]: version conflict, document already exists (current version [1])")
        self.docs[(index, doc_id)] = doc
        return {op: {**head, "_version": 1, "result": "created", "_seq_no": len(self.docs), "status": 201}}
