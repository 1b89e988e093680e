"""Small plan-file documents for the policy tests (SPEC §4 schema), built from a few helpers.

``good_*`` builders return resources that satisfy every rule of their tier; tests derive the bad
fixtures from them with :func:`mutate`, so each bad fixture differs from a good one in exactly
the property its rule checks.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

ACCOUNT = "123456789012"
PRIMARY, SECONDARY = "us-east-1", "us-east-2"
CODE = {PRIMARY: "use1", SECONDARY: "use2"}


def arn(service: str, region: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{ACCOUNT}:{resource}"


def provider_urn(region: str, project: str = "trading-edge") -> str:
    return f"urn:pulumi:dev::{project}::pulumi:providers:aws::edge-{region}"


def res(
    type_: str,
    name: str,
    inputs: dict[str, Any],
    region: str = PRIMARY,
    *,
    project: str = "trading-edge",
    dependencies: list[str] | None = None,
    protect: bool = False,
    retain: bool = False,
) -> dict[str, Any]:
    return {
        "urn": f"urn:pulumi:dev::{project}::{type_}::{name}",
        "type": type_,
        "name": name,
        "region": region,
        "provider": provider_urn(region, project),
        "parent": "",
        "dependencies": dependencies or [],
        "protect": protect,
        "retainOnDelete": retain,
        "ignoreChanges": [],
        "inputs": inputs,
    }


def doc(
    *resources: dict[str, Any],
    project: str = "trading-edge",
    config: dict[str, str] | None = None,
    outputs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A plan document with one tagged explicit provider per region its resources use."""
    regions = sorted({r["region"] for r in resources if r["region"]})
    providers = [
        {
            **res("pulumi:providers:aws", f"edge-{region}", {}, region, project=project),
            "urn": provider_urn(region, project),
            "provider": "",
            "inputs": {"region": region, "defaultTags": {"tags": TAGS}},
        }
        for region in regions
    ]
    return {
        "project": project,
        "stack": "dev",
        "config": {
            "pulumi:disable-default-providers": '["aws"]',
            **(config if config is not None else {f"{project}:environment": "dev"}),
        },
        "outputs": outputs or {},
        "resources": [*providers, *resources],
        "policy": [],
    }


TAGS = {
    "Environment": "dev",
    "Project": "trading-platform",
    "Owner": "platform-sre",
    "CostCenter": "cc-trading-dev",
    "ManagedBy": "pulumi",
}


def mutate(resource: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """A deep copy of ``resource`` with ``change`` applied to its inputs."""
    copied = copy.deepcopy(resource)
    change(copied["inputs"])
    return copied


def topic_arn(region: str) -> str:
    return arn("sns", region, f"trading-dev-events-{CODE[region]}")


def function_name(component: str, region: str) -> str:
    return f"trading-dev-{component}-{CODE[region]}"


def function_arn(component: str, region: str) -> str:
    return arn("lambda", region, f"function:{function_name(component, region)}")


# --- edge tier -------------------------------------------------------------------------------
def health_check(region: str = PRIMARY, interval: int = 30, threshold: int = 3) -> dict[str, Any]:
    return res(
        "aws:route53/healthCheck:HealthCheck",
        f"health-{region}",
        {
            "type": "HTTPS",
            "port": 443,
            "fqdn": f"abc.execute-api.{region}.amazonaws.com",
            "resourcePath": "/dev/health/active" if region == PRIMARY else "/dev/health",
            "requestInterval": interval,
            "failureThreshold": threshold,
            "measureLatency": True,
            "regions": ["us-east-1", "us-west-2", "eu-west-1"],
        },
        region="us-east-1",
    )


def metric_alarm(
    name: str,
    region: str,
    *,
    namespace: str = "AWS/ApiGateway",
    metric: str = "5XXError",
    periods: int = 3,
    period: int = 60,
    threshold: float = 1,
    topic_region: str | None = None,
) -> dict[str, Any]:
    topic = topic_arn(topic_region or region)
    return res(
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        name,
        {
            "name": name,
            "namespace": namespace,
            "metricName": metric,
            "statistic": "Maximum",
            "comparisonOperator": "GreaterThanThreshold",
            "evaluationPeriods": periods,
            "period": period,
            "threshold": threshold,
            "treatMissingData": "breaching",
            "alarmActions": [topic],
            "okActions": [topic],
        },
        region=region,
    )


def composite_alarm(name: str, region: str, children: list[str], joiner: str = "OR") -> dict[str, Any]:
    rule = f" {joiner} ".join(f'ALARM("{arn("cloudwatch", region, "alarm:" + c)}")' for c in children)
    return res(
        "aws:cloudwatch/compositeAlarm:CompositeAlarm",
        name,
        {
            "alarmName": name,
            "alarmRule": rule,
            "alarmActions": [topic_arn(region)],
            "okActions": [topic_arn(region)],
        },
        region=region,
    )


def topic(region: str) -> dict[str, Any]:
    return res(
        "aws:sns/topic:Topic",
        f"events-{region}",
        {
            "name": f"trading-dev-events-{CODE[region]}",
            "kmsMasterKeyId": arn("kms", region, "key/k-" + region),
        },
        region=region,
    )


def orchestrator(timeout: int = 300) -> dict[str, Any]:
    return res(
        "aws:lambda/function:Function",
        "orchestrator",
        {
            "name": function_name("orchestrator", SECONDARY),
            "runtime": "python3.13",
            "timeout": timeout,
            "reservedConcurrentExecutions": 1,
            "deadLetterConfig": {"targetArn": arn("sqs", SECONDARY, "trading-dev-orchestrator-dlq-use2")},
        },
        region=SECONDARY,
    )


def subscription(region: str = PRIMARY) -> dict[str, Any]:
    return res(
        "aws:sns/topicSubscription:TopicSubscription",
        "orchestrator-subscription",
        {
            "topic": topic_arn(PRIMARY),
            "protocol": "lambda",
            "endpoint": function_arn("orchestrator", SECONDARY),
        },
        region=region,
    )


def sns_permission(region: str = SECONDARY) -> dict[str, Any]:
    return res(
        "aws:lambda/permission:Permission",
        "orchestrator-from-sns",
        {
            "action": "lambda:InvokeFunction",
            "function": function_name("orchestrator", SECONDARY),
            "principal": "sns.amazonaws.com",
            "sourceArn": topic_arn(PRIMARY),
        },
        region=region,
    )


def canary(runtime: str = "syn-nodejs-puppeteer-15.0") -> dict[str, Any]:
    return res(
        "aws:synthetics/canary:Canary",
        "canary-use2",
        {
            "name": "trading-dev-canary-use2",
            "runtimeVersion": runtime,
            "deleteLambda": True,
            "schedule": {"expression": "rate(1 minute)"},
        },
        region=SECONDARY,
    )


def edge_document(
    *,
    interval: int = 30,
    threshold: int = 3,
    orchestrator_timeout: int = 300,
    primary_down_children: tuple[tuple[str, int, int], ...] = (("canary-primary-use2", 3, 60),),
    aurora_lag_ms: float | None = 30000,
    dynamodb_lag_ms: float | None = 45000,
    records: bool = True,
    failover_mode: str = "automatic",
) -> dict[str, Any]:
    """A consistent edge plan: health checks, topics, alarms, composites, orchestrator wiring."""
    alarms = [
        metric_alarm(
            name, SECONDARY, namespace="CloudWatchSynthetics", metric="SuccessPercent", periods=p, period=s
        )
        for name, p, s in primary_down_children
    ]
    if aurora_lag_ms is not None:
        alarms.append(
            metric_alarm(
                "aurora-lag-use2",
                SECONDARY,
                namespace="AWS/RDS",
                metric="AuroraGlobalDBReplicationLag",
                threshold=aurora_lag_ms,
            )
        )
    if dynamodb_lag_ms is not None:
        alarms.append(
            metric_alarm(
                "dynamodb-lag-use2",
                SECONDARY,
                namespace="AWS/DynamoDB",
                metric="ReplicationLatency",
                threshold=dynamodb_lag_ms,
            )
        )
    primary_down = composite_alarm("primary-down-use2", SECONDARY, [c[0] for c in primary_down_children])
    resources = [
        health_check(PRIMARY, interval, threshold),
        health_check(SECONDARY, interval, threshold),
        topic(PRIMARY),
        topic(SECONDARY),
        *alarms,
        primary_down,
        orchestrator(orchestrator_timeout),
        subscription(),
        sns_permission(),
    ]
    if records:
        resources.append(
            res(
                "aws:route53/record:Record",
                "api-primary",
                {
                    "name": "api.example.com",
                    "type": "A",
                    "setIdentifier": "primary",
                    "aliases": [
                        {"name": "d-1.execute-api.us-east-1.amazonaws.com", "evaluateTargetHealth": True}
                    ],
                },
            )
        )
    return doc(
        *resources,
        config={"trading-edge:environment": "dev", "trading-edge:failoverMode": failover_mode},
        outputs={
            "topicArns": {PRIMARY: topic_arn(PRIMARY), SECONDARY: topic_arn(SECONDARY)},
            "primaryDownAlarmArn": arn("cloudwatch", SECONDARY, "alarm:primary-down-use2"),
        },
    )


def data_document(rto: int = 900, rpo: int = 60, rtc_minutes: int | None = 15) -> dict[str, Any]:
    """A data plan with its targets and one replication configuration per direction."""
    configs = []
    for source, dest in ((PRIMARY, SECONDARY), (SECONDARY, PRIMARY)):
        destination: dict[str, Any] = {"bucket": f"arn:aws:s3:::docs-{dest}"}
        if rtc_minutes is not None:
            destination["replicationTime"] = {"status": "Enabled", "time": {"minutes": rtc_minutes}}
        configs.append(
            res(
                "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
                f"replication-{source}",
                {"bucket": f"docs-{source}", "rules": [{"id": f"to-{dest}", "destination": destination}]},
                region=source,
                project="trading-data",
            )
        )
    return doc(
        *configs,
        project="trading-data",
        config={
            "trading-data:environment": "dev",
            "trading-data:rtoSeconds": str(rto),
            "trading-data:rpoSeconds": str(rpo),
        },
    )


# --- region tier -----------------------------------------------------------------------------
VPC = {"subnetIds": ["subnet-a", "subnet-b"], "securityGroupIds": ["sg-app"]}


def function(component: str, region: str = PRIMARY, timeout: int = 300, vpc: bool = True) -> dict[str, Any]:
    inputs: dict[str, Any] = {
        "name": function_name(component, region),
        "runtime": "python3.13",
        "timeout": timeout,
        "tracingConfig": {"mode": "Active"},
    }
    if vpc:
        inputs["vpcConfig"] = copy.deepcopy(VPC)
    return res("aws:lambda/function:Function", component, inputs, region=region, project="trading-region")


def stage(region: str = PRIMARY) -> dict[str, Any]:
    log_format = json.dumps({"requestId": "$context.requestId", "status": "$context.status"})
    return res(
        "aws:apigateway/stage:Stage",
        "stage",
        {
            "restApi": "a1b2c3d4e5",
            "stageName": "dev",
            "deployment": "dep123",
            "accessLogSettings": {
                "destinationArn": arn("logs", region, "log-group:/aws/apigateway/trading-dev-api-use1"),
                "format": log_format,
            },
        },
        region=region,
        project="trading-region",
    )


def method_settings(rate: float = 100, burst: int = 50) -> dict[str, Any]:
    return res(
        "aws:apigateway/methodSettings:MethodSettings",
        "method-settings",
        {
            "restApi": "a1b2c3d4e5",
            "stageName": "dev",
            "methodPath": "*/*",
            "settings": {"throttlingRateLimit": rate, "throttlingBurstLimit": burst, "metricsEnabled": True},
        },
        project="trading-region",
    )


def stream_mapping(region: str = PRIMARY) -> dict[str, Any]:
    return res(
        "aws:lambda/eventSourceMapping:EventSourceMapping",
        "processor-stream",
        {
            "eventSourceArn": arn(
                "dynamodb", region, "table/trading-dev-orders/stream/2026-12-01T00:00:00.000"
            ),
            "functionName": function_arn("processor", region),
            "functionResponseTypes": ["ReportBatchItemFailures"],
            "destinationConfig": {"onFailure": {"destinationArn": arn("sqs", region, "failures")}},
            "filterCriteria": {
                "filters": [{"pattern": '{"dynamodb":{"NewImage":{"origin_region":{"S":["us-east-1"]}}}}'}]
            },
        },
        region=region,
        project="trading-region",
    )
