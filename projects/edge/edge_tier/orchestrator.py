"""The failover orchestrator's deployment (SPEC E7): in the secondary, outside the VPC.

Code: ``build/functions/failover.zip`` when built (with its dependencies), else the sources —
``handler.py``, ``failover_orchestrator/`` and ``trading_runtime/`` copied in from
``projects/region/functions/common/`` — which is what a preview and the offline plan use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from shared.iam import service_trust_policy
from shared.runtimes import DEFAULT_LAMBDA_PYTHON_RUNTIME

REPO = Path(__file__).resolve().parents[3]
FUNCTION_DIR = REPO / "projects" / "edge" / "functions" / "failover"
COMMON_DIR = REPO / "projects" / "region" / "functions" / "common"
BUILT_ARCHIVE = REPO / "build" / "functions" / "failover.zip"
EXCLUDED = ("__pycache__", ".pyc", ".mypy_cache", ".pytest_cache")
LOG_RETENTION_DAYS = 90
#: Kept back from the function timeout for probes, hand-over and the report.
NON_WAIT_SECONDS = 120
MEMORY_MB = 256
ASYNC_RETRIES = 2


def source_archive() -> pulumi.AssetArchive:
    """The function's code as deployed: the function folder + ``trading_runtime`` at the root."""
    assets: dict[str, pulumi.Asset | pulumi.Archive] = {}
    for root, prefix in ((FUNCTION_DIR, ""), (COMMON_DIR, "")):
        for path in sorted(root.rglob("*")):
            if path.is_file() and not any(part in EXCLUDED or part.endswith(EXCLUDED) for part in path.parts):
                assets[prefix + path.relative_to(root).as_posix()] = pulumi.FileAsset(str(path))
    return pulumi.AssetArchive(assets)


def code_archive() -> pulumi.Archive:
    """The built archive when present; else the sources, for a preview only.

    The sources lack the dependencies (aws-lambda-powertools), so deploying them would give a
    function that fails on import: an update without the built archive stops here instead.
    """
    if BUILT_ARCHIVE.is_file():
        return pulumi.FileArchive(str(BUILT_ARCHIVE))
    if not pulumi.runtime.is_dry_run():
        raise pulumi.RunError(
            f"{BUILT_ARCHIVE.relative_to(REPO)} is missing: build the failover function archive "
            "(with its dependencies) before deploying trading-edge"
        )
    return source_archive()


@dataclass(frozen=True)
class OrchestratorArgs:
    """Inputs of :class:`FailoverOrchestrator` (everything it may touch, by name or ARN)."""

    environment: str
    function_name: pulumi.Input[str]
    role_name: pulumi.Input[str]
    queue_name: pulumi.Input[str]
    region: pulumi.Input[str]
    primary_region: pulumi.Input[str]
    secondary_region: pulumi.Input[str]
    timeout_seconds: int
    failover_mode: str
    probe_count: int
    table_name: pulumi.Input[str]
    table_replica_arn: pulumi.Input[str]
    global_cluster_id: pulumi.Input[str]
    global_cluster_arn: pulumi.Input[str]
    cluster_arns: pulumi.Input[dict[str, str]]
    health_urls: pulumi.Input[dict[str, str]]
    report_topic_arn: pulumi.Input[str]
    trigger_alarms: pulumi.Input[list[str]]
    kms_key_arn: pulumi.Input[str]


class FailoverOrchestrator(pulumi.ComponentResource):
    """Function, role, DLQ, log group and async-invoke settings of the orchestrator."""

    def __init__(self, name: str, args: OrchestratorArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__("trading:edge:FailoverOrchestrator", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.dlq = aws.sqs.Queue(
            f"{name}-dlq",
            name=args.queue_name,
            kms_master_key_id=args.kms_key_arn,
            message_retention_seconds=1_209_600,  # 14 days: long enough for a post-mortem
            opts=child,
        )
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=pulumi.Output.concat("/aws/lambda/", args.function_name),
            retention_in_days=LOG_RETENTION_DAYS,
            kms_key_id=args.kms_key_arn,
            opts=child,
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            name=args.role_name,
            assume_role_policy=service_trust_policy("lambda.amazonaws.com"),
            opts=child,
        )
        cluster_arns = pulumi.Output.from_input(args.cluster_arns).apply(lambda m: sorted(m.values()))
        self.policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "ControlRecordAndOrders",
                            "Effect": "Allow",
                            "Action": ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Scan"],
                            "Resource": args.table_replica_arn,
                        },
                        {
                            "Sid": "DescribeGlobalCluster",
                            "Effect": "Allow",
                            "Action": ["rds:DescribeGlobalClusters"],
                            "Resource": args.global_cluster_arn,
                        },
                        {
                            "Sid": "PromoteMember",
                            "Effect": "Allow",
                            "Action": ["rds:SwitchoverGlobalCluster", "rds:FailoverGlobalCluster"],
                            "Resource": pulumi.Output.all(args.global_cluster_arn, cluster_arns).apply(
                                lambda v: [v[0], *v[1]]
                            ),
                        },
                        {
                            "Sid": "Report",
                            "Effect": "Allow",
                            "Action": ["sns:Publish"],
                            "Resource": args.report_topic_arn,
                        },
                        {
                            "Sid": "DeadLetters",
                            "Effect": "Allow",
                            "Action": ["sqs:SendMessage"],
                            "Resource": self.dlq.arn,
                        },
                        {
                            # The table, the topic, the queue and the log group use this key.
                            "Sid": "RegionalKey",
                            "Effect": "Allow",
                            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                            "Resource": args.kms_key_arn,
                        },
                        {
                            # X-Ray has no resource-level permissions for these two actions.
                            "Sid": "Tracing",
                            "Effect": "Allow",
                            "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                            "Resource": "*",
                        },
                        {
                            "Sid": "Logs",
                            "Effect": "Allow",
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Resource": [
                                self.log_group.arn,
                                pulumi.Output.concat(self.log_group.arn, ":log-stream:*"),
                            ],
                        },
                    ],
                }
            ),
            opts=child,
        )
        wait_seconds = args.timeout_seconds - NON_WAIT_SECONDS
        environment = pulumi.Output.all(
            table=args.table_name,
            primary=args.primary_region,
            secondary=args.secondary_region,
            region=args.region,
            cluster_id=args.global_cluster_id,
            clusters=args.cluster_arns,
            urls=args.health_urls,
            topic=args.report_topic_arn,
            alarms=args.trigger_alarms,
        ).apply(
            lambda v: {
                "TABLE_NAME": v["table"],
                "PRIMARY_REGION": v["primary"],
                "SECONDARY_REGION": v["secondary"],
                "REGION_NAME": v["region"],
                "GLOBAL_CLUSTER_ID": v["cluster_id"],
                "CLUSTER_ARNS": json.dumps(v["clusters"], sort_keys=True),
                "HEALTH_URLS": json.dumps(v["urls"], sort_keys=True),
                "REPORT_TOPIC_ARN": v["topic"],
                "TRIGGER_ALARMS": json.dumps(list(v["alarms"])),
                "FAILOVER_MODE": args.failover_mode,
                "PROBE_COUNT": str(args.probe_count),
                "PROBE_INTERVAL_SECONDS": "5",
                "PROBE_TIMEOUT_SECONDS": "5",
                "WAIT_TIMEOUT_SECONDS": str(wait_seconds),
                "POLL_INTERVAL_SECONDS": "10",
                "LOCK_TTL_SECONDS": str(args.timeout_seconds + 300),
                "ENVIRONMENT": args.environment,
                "POWERTOOLS_SERVICE_NAME": "trading-failover",
            }
        )
        self.function = aws.lambda_.Function(
            f"{name}-function",
            name=args.function_name,
            role=self.role.arn,
            runtime=DEFAULT_LAMBDA_PYTHON_RUNTIME,
            architectures=["arm64"],
            handler="handler.lambda_handler",
            code=code_archive(),
            memory_size=MEMORY_MB,
            timeout=args.timeout_seconds,
            # One orchestrator at a time; a concurrent event is throttled and retried by Lambda,
            # and the lock on the control record handles whatever still overlaps.
            reserved_concurrent_executions=1,
            dead_letter_config=aws.lambda_.FunctionDeadLetterConfigArgs(target_arn=self.dlq.arn),
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=environment),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                log_format="JSON", log_group=self.log_group.name
            ),
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            # No vpc_config: it calls AWS APIs in two regions and probes public endpoints.
            opts=child.merge(pulumi.ResourceOptions(depends_on=[self.policy, self.log_group])),
        )
        self.invoke_config = aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-async",
            function_name=self.function.name,
            maximum_retry_attempts=ASYNC_RETRIES,
            maximum_event_age_in_seconds=3600,
            opts=child,
        )
        self.arn: pulumi.Output[str] = self.function.arn
        self.name: pulumi.Output[str] = self.function.name
        self.register_outputs({"arn": self.function.arn, "dlqArn": self.dlq.arn})
