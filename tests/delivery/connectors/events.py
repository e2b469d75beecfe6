"""A fixed set of canonical events for golden tests (every severity, hostile strings)."""

from delivery.normalize import normalize_many

RAW = [
    {"event": "finding.new", "id": "00000000-0000-4000-8000-000000000001", "timestamp": "2024-05-31T16:08:37.123Z",
     "data": {"title": "SQL injection", "severity": "critical", "asset": {"id": "a-1", "name": "web-1", "type": "host",
                                                                          "tags": ["prod", "pci"]}, "org_id": "acme"}},
    {"event_type": "transaction.denied", "id": "00000000-0000-4000-8000-000000000002",
     "timestamp": "2024-05-31T18:08:38+02:00", "severity": "high", "subject": "bob", "reason": "risk too high"},
    {"id": "00000000-0000-4000-8000-000000000003", "type": "scan.completed", "timestamp": "2024-05-31T16:08:39Z",
     "severity": "medium", "data": {"scan_id": 7, "findings": 3}},
    {"id": "00000000-0000-4000-8000-000000000004", "type": "auth.login.failed", "timestamp": "2024-05-31T16:08:40.5Z",
     "severity": "low", "data": {"user": "eve|admin\\x=y", "src_ip": "127.0.0.1",
                                 "note": "quote \" pipe | backslash \\ equals = newline \n cr \r bracket ] unicode ü 日本 🎉"}},
    {"id": "00000000-0000-4000-8000-000000000005", "type": "siem.integration.updated",
     "timestamp": "2024-05-31T16:08:41Z", "data": {"actor": "alice", "changes": {"name": {"old": "a", "new": "b"}}}},
]

EVENTS = normalize_many(RAW)
