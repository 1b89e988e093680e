"""The regional functions (SPEC R2): role, policies, log group, function; the processor's trigger."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from region_tier.iam import (
    DataAccess,
    data_statements,
    observability_statements,
    policy_document,
    vpc_access_statements,
)
from shared.iam import service_trust_policy
from shared.naming import physical_name

HANDLER = "handler.lambda_handler"
MEMORY_MB = 512
#: Records are retried until they settle or this old: long enough to span a whole failover
#: (RTO 15 min) several times over, so a record that arrives before this region holds the
#: writer is retried, not dropped. Older records go to the on-failure queue.
MAX_RECORD_AGE_SECONDS = 3600
STREAM_BATCH_SIZE = 25
STREAM_BATCHING_WINDOW_SECONDS = 1
#: SQS maximum: time for an operator to replay the failed records from the queue.
QUEUE_RETENTION_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class LambdaFunctionArgs:
    """Inputs of :class:`LambdaFunction`."""

    environment: str
    region: str
    component: str  # "api" | "processor"
    description: str
    code: pulumi.Archive
    runtime: str
    architecture: str
    timeout_seconds: int
    log_retention_days: int
    account_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[list[str]]
    security_group_id: pulumi.Input[str]
    data_access: DataAccess
    variables: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)


class LambdaFunction(pulumi.ComponentResource):
    """One function with its own least-privilege role, KMS-encrypted log group and VPC placement."""

    def __init__(self, name: str, args: LambdaFunctionArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__("trading:region:LambdaFunction", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        function_name = physical_name(args.environment, args.component, region=args.region, service="lambda")
        kms_key_arn = args.data_access.kms_key_arn

        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{function_name}",
            retention_in_days=args.log_retention_days,
            kms_key_id=kms_key_arn,
            opts=child,
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            name=physical_name(args.environment, args.component, region=args.region, service="iam-role"),
            description=f"{args.description} ({args.region})",
            assume_role_policy=service_trust_policy("lambda.amazonaws.com", args.account_id),
            opts=child,
        )
        self.data_policy = aws.iam.RolePolicy(
            f"{name}-data",
            name="data-access",
            role=self.role.id,
            policy=policy_document(data_statements(args.data_access)),
            opts=child,
        )
        self.observability_policy = aws.iam.RolePolicy(
            f"{name}-observability",
            name="logs-and-traces",
            role=self.role.id,
            policy=policy_document(observability_statements(self.log_group.arn)),
            opts=child,
        )
        self.vpc_access_policy = aws.iam.RolePolicy(
            f"{name}-vpc-access",
            name="vpc-access",
            role=self.role.id,
            policy=policy_document(vpc_access_statements()),
            opts=child,
        )
        self.function = aws.lambda_.Function(
            f"{name}-function",
            name=function_name,
            description=args.description,
            role=self.role.arn,
            runtime=args.runtime,
            architectures=[args.architecture],
            handler=HANDLER,
            code=args.code,
            timeout=args.timeout_seconds,
            memory_size=MEMORY_MB,
            kms_key_arn=kms_key_arn,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=dict(args.variables)),
            vpc_config=aws.lambda_.FunctionVpcConfigArgs(
                subnet_ids=args.subnet_ids, security_group_ids=[args.security_group_id]
            ),
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                log_format="JSON", log_group=self.log_group.name, application_log_level="INFO"
            ),
            # Lambda creates the ENIs with the role while it creates the function, and deletes
            # them with it after the function is gone: the policies must exist before and
            # outlive the function (destroy runs in reverse dependency order).
            opts=child.merge(
                pulumi.ResourceOptions(
                    depends_on=[self.vpc_access_policy, self.data_policy, self.observability_policy]
                )
            ),
        )
        self.name: pulumi.Output[str] = self.function.name
        self.arn: pulumi.Output[str] = self.function.arn
        self.register_outputs({"name": self.function.name, "arn": self.function.arn})


def origin_filter_pattern(region: str) -> str:
    """Only new or changed orders still ``ACCEPTED`` whose origin is ``region`` (SPEC R2).

    Removals, the processor's own ``SETTLED`` update, the control record and orders of the other
    region never invoke the function (filtered records count as processed).
    """
    return json.dumps(
        {
            "eventName": ["INSERT", "MODIFY"],
            "dynamodb": {"NewImage": {"origin_region": {"S": [region]}, "status": {"S": ["ACCEPTED"]}}},
        },
        separators=(",", ":"),
        sort_keys=True,
    )


@dataclass(frozen=True)
class FailureQueueArgs:
    """Inputs of the processor's on-failure queue."""

    environment: str
    region: str
    kms_key_arn: pulumi.Input[str]


def failure_queue(name: str, args: FailureQueueArgs, opts: pulumi.ResourceOptions) -> aws.sqs.Queue:
    """The on-failure destination of the stream mapping (KMS-encrypted with the regional key)."""
    return aws.sqs.Queue(
        name,
        name=physical_name(args.environment, "processor-failures", region=args.region, service="sqs"),
        kms_master_key_id=args.kms_key_arn,
        kms_data_key_reuse_period_seconds=300,
        message_retention_seconds=QUEUE_RETENTION_SECONDS,
        opts=opts,
    )


@dataclass(frozen=True)
class StreamTriggerArgs:
    """Inputs of :func:`stream_trigger`."""

    region: str
    stream_arn: pulumi.Input[str]
    function: LambdaFunction
    failure_queue_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]


def stream_trigger(
    name: str, args: StreamTriggerArgs, opts: pulumi.ResourceOptions
) -> aws.lambda_.EventSourceMapping:
    """The processor on the local replica's stream: origin filter, partial failures, DLQ."""
    return aws.lambda_.EventSourceMapping(
        name,
        event_source_arn=args.stream_arn,
        function_name=args.function.arn,
        # TRIM_HORIZON: orders accepted before the mapping existed are settled too (the ledger
        # insert is idempotent, so re-reading the 24 h retention window is harmless).
        starting_position="TRIM_HORIZON",
        batch_size=STREAM_BATCH_SIZE,
        maximum_batching_window_in_seconds=STREAM_BATCHING_WINDOW_SECONDS,
        function_response_types=["ReportBatchItemFailures"],
        bisect_batch_on_function_error=True,
        maximum_retry_attempts=-1,
        maximum_record_age_in_seconds=MAX_RECORD_AGE_SECONDS,
        filter_criteria=aws.lambda_.EventSourceMappingFilterCriteriaArgs(
            filters=[
                aws.lambda_.EventSourceMappingFilterCriteriaFilterArgs(
                    pattern=origin_filter_pattern(args.region)
                )
            ]
        ),
        kms_key_arn=args.kms_key_arn,
        destination_config=aws.lambda_.EventSourceMappingDestinationConfigArgs(
            on_failure=aws.lambda_.EventSourceMappingDestinationConfigOnFailureArgs(
                destination_arn=args.failure_queue_arn
            )
        ),
        # Lambda checks at creation that the role can read the stream and send to the queue.
        opts=opts.merge(pulumi.ResourceOptions(depends_on=[args.function.data_policy])),
    )
