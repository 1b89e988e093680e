"""KMS-encrypted SNS topics (SPEC E4): one per configured region, plus the us-east-1 alerts topic."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from shared.aws_context import AwsContext


@dataclass(frozen=True)
class OpsTopicArgs:
    """Inputs of :class:`OpsTopic`."""

    topic_name: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    context: AwsContext
    alert_email: str | None = None


class OpsTopic(pulumi.ComponentResource):
    """An encrypted topic that CloudWatch alarms (and, for Lambda actions, nobody else) publish to."""

    def __init__(self, name: str, args: OpsTopicArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__("trading:edge:OpsTopic", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.topic = aws.sns.Topic(
            f"{name}-topic",
            name=args.topic_name,
            # The region's CMK: its key policy lets sns and cloudwatch use it (D2); with the
            # AWS-managed key, alarm notifications would be dropped silently.
            kms_master_key_id=args.kms_key_arn,
            opts=child,
        )
        self.policy = aws.sns.TopicPolicy(
            f"{name}-policy",
            arn=self.topic.arn,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AccountOwner",
                            "Effect": "Allow",
                            "Principal": {"AWS": args.context.root_principal()},
                            "Action": ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes"],
                            "Resource": self.topic.arn,
                        },
                        {
                            "Sid": "CloudWatchAlarms",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudwatch.amazonaws.com"},
                            "Action": "sns:Publish",
                            "Resource": self.topic.arn,
                            "Condition": {"StringEquals": {"aws:SourceAccount": args.context.account_id}},
                        },
                        {
                            "Sid": "TlsOnly",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "sns:Publish",
                            "Resource": self.topic.arn,
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        },
                    ],
                }
            ),
            opts=child,
        )
        self.email: aws.sns.TopicSubscription | None = None
        if args.alert_email:
            self.email = aws.sns.TopicSubscription(
                f"{name}-email",
                topic=self.topic.arn,
                protocol="email",
                endpoint=args.alert_email,
                opts=child,
            )
        self.arn: pulumi.Output[str] = self.topic.arn
        self.register_outputs({"arn": self.topic.arn})


def alerts_key_policy(context: AwsContext) -> pulumi.Output[str]:
    """Key policy of the us-east-1 alerts key: administrators via IAM, SNS and CloudWatch."""
    return pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministration",
                    "Effect": "Allow",
                    "Principal": {"AWS": context.root_principal()},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "SnsAndCloudWatchAlarms",
                    "Effect": "Allow",
                    "Principal": {"Service": ["sns.amazonaws.com", "cloudwatch.amazonaws.com"]},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": context.account_id}},
                },
            ],
        }
    )


__all__ = ["OpsTopic", "OpsTopicArgs", "alerts_key_policy"]
