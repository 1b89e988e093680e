"""Per-region alarms, the regional-health composite and the primary-down composite (SPEC E5).

Every alarm has alarm *and* OK actions on the topic of its own region and an explicit
missing-data policy. Composites are built from alarm resources (their ARNs), never from
literal names, and reference only alarms of their own region.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

# Thresholds (also the inputs of the RTO/RPO budget: replication-lag thresholds bound the RPO).
API_5XX_PER_MINUTE = 5
API_P99_LATENCY_MS = 2000
LAMBDA_ERRORS_PER_MINUTE = 5
LAMBDA_THROTTLES_PER_MINUTE = 1
DYNAMODB_REPLICATION_LATENCY_MS = 30_000
AURORA_REPLICATION_LAG_MS = 30_000
AURORA_CPU_PERCENT = 80
S3_REPLICATION_LATENCY_SECONDS = 900  # RTC's 15-minute promise


@dataclass(frozen=True)
class AlarmSpec:
    """One metric alarm, as data (table-driven: the tests assert these rows)."""

    key: str
    namespace: str
    metric_name: str
    dimensions: dict[str, pulumi.Input[str]]
    threshold: float
    comparison: str = "GreaterThanOrEqualToThreshold"
    statistic: str | None = "Sum"
    extended_statistic: str | None = None
    period: int = 60
    evaluation_periods: int = 3
    datapoints_to_alarm: int = 2
    treat_missing_data: str = "notBreaching"
    critical: bool = False
    description: str = ""


def alarm_rule(alarm_arns: Sequence[pulumi.Input[str]]) -> pulumi.Output[str]:
    """``ALARM("<arn>") OR ...`` over the given alarm ARNs, in order."""
    return pulumi.Output.all(*alarm_arns).apply(lambda arns: " OR ".join(f'ALARM("{arn}")' for arn in arns))


def metric_alarm(
    name: str,
    spec: AlarmSpec,
    alarm_name: pulumi.Input[str],
    topic_arn: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> aws.cloudwatch.MetricAlarm:
    """A metric alarm from ``spec`` with alarm and OK actions on ``topic_arn``."""
    return aws.cloudwatch.MetricAlarm(
        name,
        name=alarm_name,
        alarm_description=spec.description,
        namespace=spec.namespace,
        metric_name=spec.metric_name,
        dimensions=spec.dimensions,
        statistic=spec.statistic,
        extended_statistic=spec.extended_statistic,
        period=spec.period,
        evaluation_periods=spec.evaluation_periods,
        datapoints_to_alarm=spec.datapoints_to_alarm,
        threshold=spec.threshold,
        comparison_operator=spec.comparison,
        treat_missing_data=spec.treat_missing_data,
        alarm_actions=[topic_arn],
        ok_actions=[topic_arn],
        opts=opts,
    )


@dataclass(frozen=True)
class RegionalAlarmsArgs:
    """Inputs of :class:`RegionalAlarms`: the alarm rows, where to send them, what else is critical."""

    environment: str
    region: pulumi.Input[str]
    specs: tuple[AlarmSpec, ...]
    alarm_names: dict[str, pulumi.Input[str]]
    composite_name: pulumi.Input[str]
    topic_arn: pulumi.Input[str]
    #: Alarms of this region built elsewhere (the canary's) that the composite ORs in.
    extra_critical_arns: tuple[pulumi.Input[str], ...] = field(default_factory=tuple)


class RegionalAlarms(pulumi.ComponentResource):
    """The metric alarms of one region and its regional-health composite (for paging)."""

    def __init__(self, name: str, args: RegionalAlarmsArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__("trading:edge:RegionalAlarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.alarms: dict[str, aws.cloudwatch.MetricAlarm] = {
            spec.key: metric_alarm(
                f"{name}-{spec.key}", spec, args.alarm_names[spec.key], args.topic_arn, child
            )
            for spec in args.specs
        }
        critical = [self.alarms[s.key].arn for s in args.specs if s.critical]
        critical.extend(pulumi.Output.from_input(a) for a in args.extra_critical_arns)
        self.composite = aws.cloudwatch.CompositeAlarm(
            f"{name}-regional-health",
            alarm_name=args.composite_name,
            alarm_description=pulumi.Output.concat(
                "Regional health of ", args.region, ": any critical alarm of the region"
            ),
            alarm_rule=alarm_rule(critical),
            alarm_actions=[args.topic_arn],
            ok_actions=[args.topic_arn],
            opts=child,
        )
        self.register_outputs({"compositeArn": self.composite.arn})


def regional_specs(
    *,
    api_name: pulumi.Input[str],
    stage_name: pulumi.Input[str],
    api_function: pulumi.Input[str],
    processor_function: pulumi.Input[str],
    table_name: pulumi.Input[str],
    other_region: pulumi.Input[str],
    cluster_id: pulumi.Input[str],
    source_bucket: pulumi.Input[str],
    destination_bucket: pulumi.Input[str],
    replication_rule_id: pulumi.Input[str],
    secondary: bool,
) -> tuple[AlarmSpec, ...]:
    """The alarm rows of one region (SPEC E5)."""
    api = {"ApiName": api_name, "Stage": stage_name}
    s3 = {
        "SourceBucket": source_bucket,
        "DestinationBucket": destination_bucket,
        "RuleId": replication_rule_id,
    }
    specs: list[AlarmSpec] = [
        AlarmSpec(
            "api-5xx",
            "AWS/ApiGateway",
            "5XXError",
            api,
            API_5XX_PER_MINUTE,
            critical=True,
            description="API Gateway 5XX answers",
        ),
        AlarmSpec(
            "api-latency-p99",
            "AWS/ApiGateway",
            "Latency",
            api,
            API_P99_LATENCY_MS,
            comparison="GreaterThanThreshold",
            statistic=None,
            extended_statistic="p99",
            evaluation_periods=5,
            datapoints_to_alarm=3,
            description="API p99 latency",
        ),
        AlarmSpec(
            "api-errors",
            "AWS/Lambda",
            "Errors",
            {"FunctionName": api_function},
            LAMBDA_ERRORS_PER_MINUTE,
            critical=True,
            description="order API function errors",
        ),
        AlarmSpec(
            "api-throttles",
            "AWS/Lambda",
            "Throttles",
            {"FunctionName": api_function},
            LAMBDA_THROTTLES_PER_MINUTE,
            description="order API function throttles",
        ),
        AlarmSpec(
            "processor-errors",
            "AWS/Lambda",
            "Errors",
            {"FunctionName": processor_function},
            LAMBDA_ERRORS_PER_MINUTE,
            critical=True,
            description="ledger processor errors",
        ),
        AlarmSpec(
            "processor-throttles",
            "AWS/Lambda",
            "Throttles",
            {"FunctionName": processor_function},
            LAMBDA_THROTTLES_PER_MINUTE,
            description="ledger processor throttles",
        ),
        AlarmSpec(
            "dynamodb-replication-latency",
            "AWS/DynamoDB",
            "ReplicationLatency",
            {"TableName": table_name, "ReceivingRegion": other_region},
            DYNAMODB_REPLICATION_LATENCY_MS,
            comparison="GreaterThanThreshold",
            statistic="Average",
            description="global table replication latency to the other region",
        ),
        # The order write path; SystemErrors is published per operation.
        AlarmSpec(
            "dynamodb-system-errors",
            "AWS/DynamoDB",
            "SystemErrors",
            {"TableName": table_name, "Operation": "TransactWriteItems"},
            1,
            critical=True,
            description="DynamoDB system errors on order writes",
        ),
        AlarmSpec(
            "aurora-cpu",
            "AWS/RDS",
            "CPUUtilization",
            {"DBClusterIdentifier": cluster_id},
            AURORA_CPU_PERCENT,
            comparison="GreaterThanThreshold",
            statistic="Average",
            period=300,
            description="Aurora CPU",
        ),
        AlarmSpec(
            "s3-replication-failed",
            "AWS/S3",
            "OperationFailedReplication",
            s3,
            1,
            period=300,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            description="S3 objects that failed to replicate",
        ),
        AlarmSpec(
            "s3-replication-latency",
            "AWS/S3",
            "ReplicationLatency",
            s3,
            S3_REPLICATION_LATENCY_SECONDS,
            comparison="GreaterThanThreshold",
            statistic="Maximum",
            period=300,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            description="S3 replication latency beyond RTC's 15 minutes",
        ),
    ]
    if secondary:
        specs.append(
            AlarmSpec(
                "aurora-replication-lag",
                "AWS/RDS",
                "AuroraGlobalDBReplicationLag",
                {"DBClusterIdentifier": cluster_id},
                AURORA_REPLICATION_LAG_MS,
                comparison="GreaterThanThreshold",
                statistic="Maximum",
                description="Aurora global database replication lag into this region",
            )
        )
    return tuple(specs)


@dataclass(frozen=True)
class PrimaryDownArgs:
    """Inputs of :class:`PrimaryDownAlarm`."""

    alarm_name: pulumi.Input[str]
    child_alarm_arns: tuple[pulumi.Input[str], ...]
    topic_arn: pulumi.Input[str]
    function_arn: pulumi.Input[str]
    function_name: pulumi.Input[str]
    account_id: pulumi.Input[str]


class PrimaryDownAlarm(pulumi.ComponentResource):
    """The secondary's composite of what it sees of the primary; it invokes the orchestrator."""

    def __init__(self, name: str, args: PrimaryDownArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__("trading:edge:PrimaryDownAlarm", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.composite = aws.cloudwatch.CompositeAlarm(
            f"{name}-composite",
            alarm_name=args.alarm_name,
            alarm_description="The primary as seen from the secondary (feeds the failover orchestrator)",
            alarm_rule=alarm_rule(list(args.child_alarm_arns)),
            alarm_actions=[args.topic_arn, args.function_arn],
            ok_actions=[args.topic_arn],
            opts=child,
        )
        self.permission = aws.lambda_.Permission(
            f"{name}-invoke",
            action="lambda:InvokeFunction",
            function=args.function_name,
            principal="lambda.alarms.cloudwatch.amazonaws.com",
            source_arn=self.composite.arn,
            source_account=args.account_id,
            opts=child,
        )
        self.arn: pulumi.Output[str] = self.composite.arn
        self.register_outputs({"arn": self.composite.arn})
