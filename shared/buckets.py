"""The baseline every bucket of the product gets: SSE-KMS with bucket keys, public access blocked."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws


def kms_encryption(
    name: str, bucket: pulumi.Input[str], key_arn: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> aws.s3.BucketServerSideEncryptionConfiguration:
    """Default encryption of ``bucket`` with the customer-managed key ``key_arn`` (bucket keys on)."""
    return aws.s3.BucketServerSideEncryptionConfiguration(
        name,
        bucket=bucket,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms", kms_master_key_id=key_arn
                ),
                bucket_key_enabled=True,
            )
        ],
        opts=opts,
    )


def block_public_access(
    name: str, bucket: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> aws.s3.BucketPublicAccessBlock:
    """All four public-access switches on for ``bucket``."""
    return aws.s3.BucketPublicAccessBlock(
        name,
        bucket=bucket,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=opts,
    )
