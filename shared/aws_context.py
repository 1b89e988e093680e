"""Account and partition of the deployment, looked up once through an explicit provider."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class AwsContext:
    """The account id and partition every hand-formed ARN must use (never literals)."""

    account_id: pulumi.Output[str]
    partition: pulumi.Output[str]

    @classmethod
    def lookup(cls, provider: aws.Provider) -> AwsContext:
        opts = pulumi.InvokeOutputOptions(provider=provider)
        identity = aws.get_caller_identity_output(opts=opts)
        partition = aws.get_partition_output(opts=opts)
        return cls(account_id=identity.account_id, partition=partition.partition)

    def root_principal(self) -> pulumi.Output[str]:
        """``arn:<partition>:iam::<account>:root`` — the account's administrators via IAM."""
        return pulumi.Output.concat("arn:", self.partition, ":iam::", self.account_id, ":root")
