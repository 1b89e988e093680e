"""IAM documents of the regional functions, built as data (SPEC R2: one least-privilege role each).

Every data statement names exact ARNs from the data contract of this region: the one secret,
the regional key, this region's table replica and its stream. The only ``"*"`` resources are
on actions that AWS does not scope to resources (EC2 network-interface calls for the VPC
placement, X-Ray segments).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from shared.iam import POLICY_VERSION as VERSION

#: What Lambda needs to place a function in a VPC (create/describe/delete its ENIs). The same
#: actions as the AWS-managed AWSLambdaVPCAccessExecutionRole, without its ``logs:*`` on ``*``.
VPC_ACCESS_ACTIONS = [
    "ec2:AssignPrivateIpAddresses",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:UnassignPrivateIpAddresses",
]
XRAY_ACTIONS = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]

#: The API: read orders and the control record, put an order fenced by a condition check
#: (TransactWriteItems needs the item actions it contains, not an action of its own).
API_TABLE_ACTIONS = ["dynamodb:ConditionCheckItem", "dynamodb:GetItem", "dynamodb:PutItem"]
#: The processor: read the control record, mark an order settled.
PROCESSOR_TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
#: What the event source mapping needs on the replica's stream.
STREAM_ACTIONS = [
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
]
SECRET_ACTIONS = ["secretsmanager:GetSecretValue"]
KEY_DECRYPT_ACTIONS = ["kms:Decrypt"]
#: Sending to the KMS-encrypted on-failure queue needs a data key as well.
QUEUE_KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]
QUEUE_ACTIONS = ["sqs:SendMessage"]


@dataclass(frozen=True)
class DataAccess:
    """The exact data resources of this region one function may touch."""

    secret_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    table_replica_arn: pulumi.Input[str]
    table_actions: list[str]
    stream_arn: pulumi.Input[str] | None = None
    failure_queue_arn: pulumi.Input[str] | None = None


def data_statements(access: DataAccess) -> list[dict[str, Any]]:
    """Secret, key, table (and stream, queue) statements naming exactly these resources."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadDatabaseSecret",
            "Effect": "Allow",
            "Action": SECRET_ACTIONS,
            "Resource": [access.secret_arn],
        },
        {
            "Sid": "UseRegionalKey",
            "Effect": "Allow",
            "Action": QUEUE_KEY_ACTIONS if access.failure_queue_arn is not None else KEY_DECRYPT_ACTIONS,
            "Resource": [access.kms_key_arn],
        },
        {
            "Sid": "OrdersTableReplica",
            "Effect": "Allow",
            "Action": access.table_actions,
            "Resource": [access.table_replica_arn],
        },
    ]
    if access.stream_arn is not None:
        statements.append(
            {
                "Sid": "ReplicaStream",
                "Effect": "Allow",
                "Action": STREAM_ACTIONS,
                "Resource": [access.stream_arn],
            }
        )
    if access.failure_queue_arn is not None:
        statements.append(
            {
                "Sid": "OnFailureDestination",
                "Effect": "Allow",
                "Action": QUEUE_ACTIONS,
                "Resource": [access.failure_queue_arn],
            }
        )
    return statements


def observability_statements(log_group_arn: pulumi.Input[str]) -> list[dict[str, Any]]:
    """Write to the function's own log group (created by the program) and send X-Ray traces."""
    return [
        {
            "Sid": "OwnLogGroup",
            "Effect": "Allow",
            "Action": LOG_ACTIONS,
            "Resource": [log_group_arn, pulumi.Output.concat(log_group_arn, ":log-stream:*")],
        },
        # X-Ray has no resource-level permissions.
        {"Sid": "XRayTraces", "Effect": "Allow", "Action": XRAY_ACTIONS, "Resource": "*"},
    ]


def vpc_access_statements() -> list[dict[str, Any]]:
    """ENI management for the VPC placement (EC2 does not scope these calls to resources)."""
    return [{"Sid": "VpcNetworkInterfaces", "Effect": "Allow", "Action": VPC_ACCESS_ACTIONS, "Resource": "*"}]


def policy_document(statements: list[dict[str, Any]]) -> pulumi.Output[str]:
    """Serialise statements (which may hold Outputs) into a policy document."""
    return pulumi.Output.json_dumps({"Version": VERSION, "Statement": statements})
