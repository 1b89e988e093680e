"""Customer-managed KMS key of one region and its key policy (SPEC D2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from shared.aws_context import AwsContext
from shared.naming import physical_name

#: Services that use the key through their own service-linked access (``kms:ViaService``).
VIA_SERVICES = ("rds", "dynamodb", "s3", "secretsmanager", "lambda")
#: Services that call KMS as their own principal: SNS encrypts, CloudWatch publishes alarm
#: notifications to an encrypted topic (without this an alarm's topic deploys cleanly and
#: delivers nothing).
SERVICE_PRINCIPALS = ("sns.amazonaws.com", "cloudwatch.amazonaws.com")
DATA_KEY_ACTIONS = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
]


def key_policy(region: str, ctx: AwsContext) -> pulumi.Output[str]:
    """The key policy: account administrators, the services that use the key, no ``*`` principal.

    Roles of other stacks (function roles, replication roles) get their access through IAM
    policies, which the account statement enables; this keeps the key free of references to
    stacks that are deployed after it.
    """
    root = ctx.root_principal()
    logs_arn = pulumi.Output.concat(
        "arn:", ctx.partition, ":logs:", region, ":", ctx.account_id, ":log-group:*"
    )
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AccountAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "AwsServicesOnBehalfOfAccount",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": [*DATA_KEY_ACTIONS, "kms:CreateGrant", "kms:ListGrants"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "kms:CallerAccount": ctx.account_id,
                    "kms:ViaService": [f"{svc}.{region}.amazonaws.com" for svc in VIA_SERVICES],
                }
            },
        },
        {
            "Sid": "CloudWatchLogs",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{region}.amazonaws.com"},
            "Action": DATA_KEY_ACTIONS,
            "Resource": "*",
            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": logs_arn}},
        },
        {
            "Sid": "SnsAndCloudWatchAlarms",
            "Effect": "Allow",
            "Principal": {"Service": list(SERVICE_PRINCIPALS)},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
        },
    ]
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements})


@dataclass(frozen=True)
class RegionalKeyArgs:
    """Inputs of :class:`RegionalKey`."""

    environment: str
    region: str
    context: AwsContext
    protected: bool


class RegionalKey(pulumi.ComponentResource):
    """One customer-managed key per region, rotation on, with an alias."""

    def __init__(self, name: str, args: RegionalKeyArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__("trading:data:RegionalKey", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"trading {args.environment} data key ({args.region})",
            enable_key_rotation=True,
            rotation_period_in_days=365,
            deletion_window_in_days=30,
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            policy=key_policy(args.region, args.context),
            opts=child.merge(pulumi.ResourceOptions(protect=args.protected, retain_on_delete=args.protected)),
        )
        self.alias = aws.kms.Alias(
            f"{name}-alias",
            name="alias/" + physical_name(args.environment, "data", region=args.region, service="kms-alias"),
            target_key_id=self.key.key_id,
            opts=child,
        )
        self.arn: pulumi.Output[str] = self.key.arn
        self.register_outputs({"arn": self.key.arn})
