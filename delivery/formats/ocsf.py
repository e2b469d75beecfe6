"""The ``ocsf`` output schema: one canonical event -> one OCSF v1.1.0 event (DESIGN.md §3).

OCSF 1.1.0 classes used (ocsf/ocsf-schema tag v1.1.0; facts in WIRE-FORMATS.md §10):

- **Detection Finding 2004** (``events/findings/detection_finding.json``): ``finding.*``, and events
  whose ``data`` carries a finding (a nested ``finding`` object, or ``finding_id`` with ``title``).
- **Authentication 3002** (``events/iam/authentication.json``): ``transaction.*`` and ``auth.*``.
- **Entity Management 3004** (``events/iam/entity_management.json``): siemhub audit events that are
  create / read / update / delete of a configuration object (``siem.integration.created``,
  ``siem.api_key.created`` ...). The integration or API key *is* the managed ``entity``.
- **API Activity 6003** (``events/application/api.json``): siemhub audit events that are operations
  rather than CRUD (``siem.integration.tested``, ``siem.dead_letter.replayed``): there is no entity
  change to report, so ``api.operation`` names what was invoked (activity 99 Other).
- **Base Event 0** (``events/base_event.json``): everything else, the whole original under ``unmapped``.

Every output has the classification ids and their captions (``type_uid = class_uid * 100 +
activity_id``), ``time`` in epoch milliseconds, ``severity_id``/``severity``, ``message`` and
``metadata`` (``uid`` = the event id, which receivers deduplicate on; ``event_code`` = the siemhub
type). ``data`` keys that were not mapped are kept under ``unmapped.data``. Pure and deterministic:
the input is never mutated and the output shares no objects with it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from delivery.formats.timefmt import epoch_ms
from siemhub import __version__

OCSF_VERSION = "1.1.0"
PRODUCT = {"vendor_name": "siemhub", "name": "siemhub", "version": __version__}


class OcsfClass(NamedTuple):
    """Identity and captions of one event class, as the schema files spell them."""

    uid: int  # class_uid = category_uid * 1000 + the class file's uid
    caption: str
    category_uid: int
    category: str
    activities: Mapping[int, str]  # the class's own activity_id enum


_CRUD = {1: "Create", 2: "Read", 3: "Update", 4: "Delete"}
CLASSES: dict[str, OcsfClass] = {
    "base": OcsfClass(0, "Base Event", 0, "Uncategorized", {}),
    "finding": OcsfClass(2004, "Detection Finding", 2, "Findings", {1: "Create", 2: "Update", 3: "Close"}),
    "auth": OcsfClass(3002, "Authentication", 3, "Identity & Access Management", {1: "Logon", 2: "Logoff"}),
    "entity": OcsfClass(3004, "Entity Management", 3, "Identity & Access Management", _CRUD),
    "api": OcsfClass(6003, "API Activity", 6, "Application Activity", _CRUD),
}
COMMON_ACTIVITIES = {0: "Unknown", 99: "Other"}  # in every activity_id enum (classification.json)
SEVERITIES = {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
SEVERITY_CAPTIONS = {0: "Unknown", 1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}
STATUSES = {0: "Unknown", 1: "Success", 2: "Failure", 99: "Other"}  # dictionary.json status_id
FINDING_STATUSES = {1: "New", 2: "In Progress", 3: "Suppressed", 4: "Resolved"}  # finding.json status_id

# Words (the last segment of the type, or a data value) -> enum ids.
FINDING_ACTIVITY = {
    "new": 1, "created": 1, "opened": 1, "detected": 1,
    "updated": 2, "changed": 2, "reopened": 2, "acknowledged": 2, "assigned": 2,
    "resolved": 3, "closed": 3, "fixed": 3, "remediated": 3, "dismissed": 3, "suppressed": 3,
}
FINDING_STATE = {
    "new": 1, "open": 1, "opened": 1, "created": 1, "reopened": 1,
    "in_progress": 2, "investigating": 2, "acknowledged": 2, "triaged": 2,
    "suppressed": 3, "dismissed": 3, "ignored": 3, "false_positive": 3,
    "resolved": 4, "closed": 4, "fixed": 4, "remediated": 4,
}
OUTCOME = {  # status_id: 1 Success, 2 Failure, 0 Unknown (outcome not known yet)
    "succeeded": 1, "success": 1, "successful": 1, "verified": 1, "approved": 1, "allowed": 1, "ok": 1,
    "failed": 2, "failure": 2, "denied": 2, "rejected": 2, "expired": 2, "blocked": 2, "locked": 2,
    "error": 2, "created": 0, "pending": 0, "requested": 0, "started": 0,
}
LOGOFF_WORDS = frozenset({"logout", "logoff", "signout", "logged_out", "signed_out"})
ENTITY_VERBS = {  # audit verbs that are CRUD on the entity -> Entity Management activity_id
    "created": 1, "added": 1, "read": 2, "viewed": 2, "updated": 3, "changed": 3, "enabled": 3,
    "disabled": 3, "revoked": 3, "rotated": 3, "deleted": 4, "removed": 4,
}
AUTH_PREFIXES = ("transaction.", "auth.")
AUDIT_PREFIXES = ("siem.integration.", "siem.api_key.", "siem.dead_letter.")
CANONICAL_KEYS = frozenset({"id", "type", "timestamp", "severity", "org_id", "asset", "data"})
ASSET_KEYS = frozenset({"id", "name", "type", "tags"})
IP_KEYS = ("ip", "ip_address", "remote_addr", "source_ip", "src_ip", "client_ip")
# email_t's regex from dictionary.json: a value that fails it must not go in email_addr.
EMAIL_RE = re.compile(r"^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+$")


class _Data:
    """A read-only view of ``data`` that records which top-level keys were mapped.

    Only scalars count as mapped: a nested object may be read from, but it stays under
    ``unmapped`` whole, so nothing the mapping does not understand is ever dropped.
    """

    def __init__(self, data: Any) -> None:
        self.src: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        self.used: set[str] = set()

    def text(self, *keys: str, ok: Callable[[str], object] | None = None) -> str | None:
        """The first present scalar among ``keys`` as a string (and mark it mapped)."""
        for key in keys:
            value = self.src.get(key)
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                continue
            text = str(value)
            if text and (ok is None or ok(text)):
                self.used.add(key)
                return text
        return None

    def rest(self) -> dict[str, Any]:
        return {k: _plain(v) for k, v in self.src.items() if k not in self.used}


class _Mapped(NamedTuple):
    cls: str  # key of CLASSES
    activity_id: int
    attrs: dict[str, Any]  # class-specific attributes, in output order
    subject: str  # what the generated message is about
    profiles: tuple[str, ...] = ()
    asset_kept: bool = True  # False when the asset was fully mapped (not repeated in unmapped)


def _plain(value: Any) -> Any:
    """A deep copy as plain JSON containers, so the output never aliases the input."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _word(text: str | None) -> str:
    return (text or "").strip().lower().replace("-", "_").replace(" ", "_")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _outcome(rd: _Data) -> int | None:
    """status_id from data: ``status``/``result``/``outcome`` words or ``success``/``ok`` booleans."""
    word = _word(rd.text("status", "result", "outcome", ok=lambda t: _word(t) in OUTCOME))
    if word:
        return OUTCOME[word]
    for key in ("success", "ok"):
        if isinstance(rd.src.get(key), bool):
            rd.used.add(key)
            return 1 if rd.src[key] else 2
    return None


def _status(status_id: int, captions: Mapping[int, str] = STATUSES) -> dict[str, Any]:
    return {"status_id": status_id, "status": captions[status_id]}


def _user(rd: _Data, nested: str, names: tuple[str, ...], uids: tuple[str, ...], fallback: str) -> dict[str, Any]:
    """OCSF ``user``; always carries ``name`` or ``uid`` (the object's at_least_one constraint)."""
    inner = _Data(rd.src.get(nested))  # read from, but kept whole in unmapped
    name = inner.text("username", "name", "email") or rd.text(*names)
    uid = inner.text("uid", "id", "user_id") or rd.text(*uids)
    email = inner.text("email", "email_addr", ok=EMAIL_RE.fullmatch) or rd.text("email", ok=EMAIL_RE.fullmatch)
    email = email or (name if name and EMAIL_RE.fullmatch(name) else None)  # a subject that is an address
    user = {"name": name or email or (None if uid else fallback), "uid": uid, "email_addr": email}
    return {k: v for k, v in user.items() if v}


def _asset_resource(ev: Mapping[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    """The asset as an OCSF resource (``resource_details``), and whether ``unmapped`` still needs it.

    No resource without a name or id (the ``_entity`` at_least_one constraint).
    """
    asset = ev.get("asset")
    if not isinstance(asset, Mapping):
        return None, bool(asset)
    res: dict[str, Any] = {k: str(asset[src]) for k, src in (("uid", "id"), ("name", "name"), ("type", "type"))
           if asset.get(src) not in (None, "")}
    if "uid" not in res and "name" not in res:
        return None, True
    tags = asset.get("tags")
    if isinstance(tags, list | tuple) and tags:
        res["labels"] = [str(tag) for tag in tags]
    lossless = set(asset) <= ASSET_KEYS and (tags is None or isinstance(tags, list | tuple))
    return res, not lossless


def _finding(ev: Mapping[str, Any], rd: _Data, etype: str, verb: str) -> _Mapped:
    info_src = _Data(rd.src.get("finding"))
    activity = FINDING_ACTIVITY.get(verb, 99)
    uid = info_src.text("uid", "id", "finding_id") or rd.text("finding_id") or str(ev.get("id", ""))
    closing = {1: "created", 2: "updated", 3: "closed"}.get(activity, f"reported ({etype})")
    info: dict[str, Any] = {
        "uid": uid,
        "title": info_src.text("title", "name") or rd.text("title", "name") or f"Finding {uid} {closing}",
    }
    desc = info_src.text("description", "desc") or rd.text("description", "desc")
    if desc:
        info["desc"] = desc
    category = info_src.text("category") or rd.text("category", "finding_type")
    if category:
        info["types"] = [category]
    url = info_src.text("url", "src_url") or rd.text("url", "link")
    if url:
        info["src_url"] = url
    attrs: dict[str, Any] = {"finding_info": info}
    # status_id on findings is the review state (finding.json), not success/failure.
    known_state: Callable[[str], bool] = lambda t: _word(t) in FINDING_STATE  # noqa: E731
    state = info_src.text("status", "state", ok=known_state) or rd.text("status", "state", ok=known_state)
    state_id = FINDING_STATE.get(_word(state)) or FINDING_STATE.get(verb)
    if state_id:
        attrs.update(_status(state_id, FINDING_STATUSES))
    resource, kept = _asset_resource(ev)
    if resource:
        attrs["resources"] = [resource]
    return _Mapped("finding", activity, attrs, info["title"], asset_kept=kept)


def _authentication(ev: Mapping[str, Any], rd: _Data, etype: str, verb: str) -> _Mapped:
    activity = 2 if LOGOFF_WORDS.intersection(etype.split(".")) else 1
    # The type's verb decides when it is an outcome (verified, denied ...); otherwise the data.
    status_id = OUTCOME.get(verb) or _outcome(rd) or 0
    user = _user(rd, "user", ("user", "username", "subject", "email"), ("user_id",), "unknown")
    attrs: dict[str, Any] = {**_status(status_id), "user": user}
    attrs["status_detail"] = rd.text("reason", "failure_reason", "error", "detail") or verb
    ip = rd.text(*IP_KEYS, ok=_is_ip)
    if ip:
        attrs["src_endpoint"] = {"ip": ip}
    service = rd.text("service", "application", "app")
    resource, _ = _asset_resource(ev)
    if resource:  # the asset signed in to; its type and tags stay in unmapped
        attrs["dst_endpoint"] = {k: v for k, v in resource.items() if k in ("uid", "name")}
    # Authentication requires at least one of service / dst_endpoint.
    if service or not resource:
        attrs["service"] = {"name": service or "unknown"}
    return _Mapped("auth", activity, attrs, user.get("name") or user["uid"])


def _audit_target(rd: _Data, kind: str) -> dict[str, Any]:
    """The integration / API key / dead letter acted on: ``uid``, ``name`` (when known) and ``type``."""
    inner = _Data(rd.src.get("target"))
    target = {
        "uid": inner.text("uid", "id") or rd.text("target_id", f"{kind}_id", "id", "prefix"),
        "name": inner.text("name") or rd.text("target_name", f"{kind}_name", "name", "target"),
        "type": inner.text("type") or rd.text("target_type") or kind,
    }
    return {k: v for k, v in target.items() if v}


def _audit(ev: Mapping[str, Any], rd: _Data, etype: str, verb: str) -> _Mapped:
    kind = etype.split(".")[1]
    actor = {"user": _user(rd, "actor", ("actor", "actor_name", "user", "username", "email"),
                           ("actor_id", "user_id"), "system")}
    target = _audit_target(rd, kind)
    # An audit entry records something that happened: Success unless the data says otherwise
    # (a failed "Test" of an integration, for one).
    status = _status(_outcome(rd) or 1)
    detail = rd.text("error", "detail", "last_error")
    if detail:
        status["status_detail"] = detail
    subject = target.get("name") or target.get("uid") or kind
    known = "uid" in target or "name" in target  # the _entity at_least_one constraint
    if verb in ENTITY_VERBS:
        entity = target if known else {"name": kind, **target}
        attrs: dict[str, Any] = {**status, "entity": entity, "actor": actor}
        comment = rd.text("comment", "reason")
        if comment:
            attrs["comment"] = comment
        # In 1.1.0 Entity Management's ``actor`` comes from the host profile (the class does not
        # unbind it with "profile": null as Authentication does), so we declare that profile.
        return _Mapped("entity", ENTITY_VERBS[verb], attrs, subject, ("host",))
    api: dict[str, Any] = {"operation": rd.text("operation") or etype, "service": {"name": "siemhub"}}
    request_id = rd.text("request_id")
    if request_id:
        api["request"] = {"uid": request_id}
    ip = rd.text(*IP_KEYS, ok=_is_ip)
    resource, kept = _asset_resource(ev)
    resources = ([target] if known else []) + ([resource] if resource else [])
    attrs = {**status, "api": api, "actor": actor,
             # src_endpoint is required; without a recorded client address we say so plainly.
             "src_endpoint": {"ip": ip} if ip else {"name": "unknown"}}
    if resources:
        attrs["resources"] = resources
    return _Mapped("api", 99, attrs, subject, asset_kept=kept)


def _classify(etype: str, data: Mapping[str, Any]) -> Callable[..., _Mapped] | None:
    if etype.startswith("finding."):
        return _finding
    if etype.startswith(AUTH_PREFIXES):
        return _authentication
    if etype.startswith(AUDIT_PREFIXES):
        return _audit
    if isinstance(data.get("finding"), Mapping) or ("finding_id" in data and "title" in data):
        return _finding
    return None


def to_ocsf(event: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical event as one OCSF 1.1.0 event (a fresh dict; ``event`` is not modified)."""
    etype = str(event.get("type") or "")
    rd = _Data(event.get("data"))
    message = rd.text("message")
    builder = _classify(etype, rd.src)
    mapped = builder(event, rd, etype, _word(etype.rsplit(".", 1)[-1])) if builder else _Mapped("base", 99, {}, "")
    cls = CLASSES[mapped.cls]
    activity = {**COMMON_ACTIVITIES, **cls.activities}[mapped.activity_id]
    severity = str(event.get("severity") or "info").lower()
    severity_id = SEVERITIES.get(severity, 0)
    metadata: dict[str, Any] = {"version": OCSF_VERSION, "product": dict(PRODUCT)}
    if event.get("id") not in (None, ""):
        metadata["uid"] = str(event["id"])
    metadata["original_time"] = str(event["timestamp"])
    if etype:
        metadata["event_code"] = etype
    if event.get("org_id") not in (None, ""):
        metadata["tenant_uid"] = str(event["org_id"])
    if mapped.profiles:
        metadata["profiles"] = list(mapped.profiles)
    out: dict[str, Any] = {
        "category_uid": cls.category_uid,
        "category_name": cls.category,
        "class_uid": cls.uid,
        "class_name": cls.caption,
        "activity_id": mapped.activity_id,
        "activity_name": activity,
        "type_uid": cls.uid * 100 + mapped.activity_id,
        "type_name": f"{cls.caption}: {activity}",
        "time": epoch_ms(str(event["timestamp"])),
        "timezone_offset": 0,  # the canonical timestamp is UTC
        "severity_id": severity_id,
        "severity": SEVERITY_CAPTIONS[severity_id],
        "message": message or (f"{etype}: {mapped.subject}" if mapped.subject else etype or "event"),
        "metadata": metadata,
        **mapped.attrs,
    }
    if builder is None:
        out["unmapped"] = _plain(event)  # Base Event: the whole original, as the contract says
        return out
    unmapped = {k: _plain(v) for k, v in event.items() if k not in CANONICAL_KEYS}
    if severity_id == 0:
        unmapped["severity"] = _plain(event.get("severity"))
    if event.get("asset") and mapped.asset_kept:
        unmapped["asset"] = _plain(event["asset"])
    data = event.get("data")
    rest = rd.rest() if isinstance(data, Mapping) else _plain(data)
    if rest not in (None, {}):
        unmapped["data"] = rest
    if unmapped:
        out["unmapped"] = unmapped
    return out
