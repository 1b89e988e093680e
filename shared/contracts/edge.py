"""The edge contract: what the ``trading-edge`` stack exports (read by operators and tools)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

PROJECT = "trading-edge"

HEALTH_CHECK_IDS = "healthCheckIds"
TOPIC_ARNS = "topicArns"
ALERTS_TOPIC_ARN = "alertsTopicArn"
COMPOSITE_ALARM_ARNS = "compositeAlarmArns"
PRIMARY_DOWN_ALARM_ARN = "primaryDownAlarmArn"
FAILOVER_FUNCTION_NAME = "failoverFunctionName"
FAILOVER_FUNCTION_ARN = "failoverFunctionArn"
#: Present only when a domain is configured.
DNS_NAME = "dnsName"

REQUIRED_KEYS = (
    HEALTH_CHECK_IDS,
    TOPIC_ARNS,
    ALERTS_TOPIC_ARN,
    COMPOSITE_ALARM_ARNS,
    PRIMARY_DOWN_ALARM_ARN,
    FAILOVER_FUNCTION_NAME,
    FAILOVER_FUNCTION_ARN,
)


@dataclass(frozen=True)
class EdgeContract:
    """Everything the edge stack exports (SPEC §4 edge contract); maps are keyed by region."""

    health_check_ids: dict[str, pulumi.Input[str]]
    topic_arns: dict[str, pulumi.Input[str]]
    alerts_topic_arn: pulumi.Input[str]
    composite_alarm_arns: dict[str, pulumi.Input[str]]
    primary_down_alarm_arn: pulumi.Input[str]
    failover_function_name: pulumi.Input[str]
    failover_function_arn: pulumi.Input[str]
    dns_name: pulumi.Input[str] | None = None


def export_edge_contract(contract: EdgeContract) -> None:
    """Export the edge contract as stack outputs (the only place the edge stack exports)."""
    values: dict[str, Any] = {
        HEALTH_CHECK_IDS: contract.health_check_ids,
        TOPIC_ARNS: contract.topic_arns,
        ALERTS_TOPIC_ARN: contract.alerts_topic_arn,
        COMPOSITE_ALARM_ARNS: contract.composite_alarm_arns,
        PRIMARY_DOWN_ALARM_ARN: contract.primary_down_alarm_arn,
        FAILOVER_FUNCTION_NAME: contract.failover_function_name,
        FAILOVER_FUNCTION_ARN: contract.failover_function_arn,
        DNS_NAME: contract.dns_name,
    }
    for key, value in values.items():
        if value is not None:
            pulumi.export(key, value)
