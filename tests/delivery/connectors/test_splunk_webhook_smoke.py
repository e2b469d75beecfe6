from delivery.connectors import get_connector

EVENT = {"id": "0b6c3a1e-8f5e-4c1a-9d7e-2f4b6a8c0d12", "type": "finding.new", "timestamp": "2024-05-31T16:08:37.123000Z",
         "severity": "high", "org_id": None, "asset": None, "data": {"title": "x"}}


def test_splunk_builds_envelope():
    conn = get_connector("splunk")(config={"endpoint": "https://127.0.0.1:8088", "index": "sec"}, secrets={"token": "T"})
    [req] = conn.build_requests([EVENT])
    assert req.url == "https://127.0.0.1:8088/services/collector/event"
    assert req.body.startswith(b'{"time":1717171717.123,"sourcetype":"_json","index":"sec","event":{"id":')
    assert req.headers["Authorization"] == "Splunk T"
