"""The explicit registry of destination types: ``integration_type`` → connector class.

Adding a SIEM = one module in this package + one line here. Nothing else switches on type.
"""

from __future__ import annotations

from delivery.connectors.base import Connector
from delivery.connectors.datadog import DatadogConnector
from delivery.connectors.elastic import ElasticConnector
from delivery.connectors.sentinel import SentinelConnector
from delivery.connectors.sentinel_legacy import SentinelLegacyConnector
from delivery.connectors.splunk import SplunkConnector
from delivery.connectors.syslog import SyslogConnector
from delivery.connectors.sumo import SumoConnector
from delivery.connectors.webhook import WebhookConnector
from delivery.connectors.xsiam import XsiamConnector

CONNECTORS: dict[str, type[Connector]] = {
    c.type: c
    for c in (
        SplunkConnector,
        ElasticConnector,
        SentinelConnector,
        SentinelLegacyConnector,
        DatadogConnector,
        SumoConnector,
        XsiamConnector,
        WebhookConnector,
        SyslogConnector,
    )
}


class UnknownIntegrationType(KeyError):
    pass


def get_connector(integration_type: str) -> type[Connector]:
    try:
        return CONNECTORS[integration_type]
    except KeyError:
        raise UnknownIntegrationType(integration_type) from None
