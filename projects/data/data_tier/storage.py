"""Trade-document buckets, one per region, replicating both ways (SPEC D6).

Both directions exist from the start: documents written in the secondary after a failover flow
back to the primary without anyone touching replication during an incident. Replica
modification sync keeps metadata changes on replicas flowing too; S3 does not replicate a
replica again, so the two rules do not loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from shared.aws_context import AwsContext
from shared.buckets import block_public_access, kms_encryption
from shared.iam import service_trust_policy
from shared.naming import physical_name
from shared.regions import region_code

REPLICATION_MINUTES = 15
NONCURRENT_TO_IA_DAYS = 30
NONCURRENT_EXPIRATION_DAYS = 365
ABORT_MULTIPART_DAYS = 7
#: Exactly what S3 replication needs on the source and on the destination bucket.
SOURCE_BUCKET_ACTIONS = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
SOURCE_OBJECT_ACTIONS = [
    "s3:GetObjectVersionForReplication",
    "s3:GetObjectVersionAcl",
    "s3:GetObjectVersionTagging",
]
DESTINATION_OBJECT_ACTIONS = ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"]


def replication_rule_id(source_region: str, destination_region: str) -> str:
    """``documents-use1-to-use2``."""
    return f"documents-{region_code(source_region)}-to-{region_code(destination_region)}"


def tls_only_policy(bucket_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """Deny every request that does not use TLS."""
    return pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


def _encryption_context(bucket_arn: pulumi.Input[str]) -> list[Any]:
    # With S3 Bucket Keys the KMS encryption context is the bucket ARN, without them the object's.
    return [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")]


def replication_policy(
    source_bucket_arn: pulumi.Input[str],
    destination_bucket_arn: pulumi.Input[str],
    source_key_arn: pulumi.Input[str],
    destination_key_arn: pulumi.Input[str],
    source_region: str,
    destination_region: str,
) -> pulumi.Output[str]:
    """The replication role's policy: the two buckets and the two keys, nothing else."""
    return pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ReadSourceBucket",
                    "Effect": "Allow",
                    "Action": SOURCE_BUCKET_ACTIONS,
                    "Resource": source_bucket_arn,
                },
                {
                    "Sid": "ReadSourceObjectVersions",
                    "Effect": "Allow",
                    "Action": SOURCE_OBJECT_ACTIONS,
                    "Resource": pulumi.Output.concat(source_bucket_arn, "/*"),
                },
                {
                    "Sid": "WriteReplicas",
                    "Effect": "Allow",
                    "Action": DESTINATION_OBJECT_ACTIONS,
                    "Resource": pulumi.Output.concat(destination_bucket_arn, "/*"),
                },
                {
                    "Sid": "DecryptWithSourceKey",
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt"],
                    "Resource": source_key_arn,
                    "Condition": {
                        "StringEquals": {"kms:ViaService": f"s3.{source_region}.amazonaws.com"},
                        "StringLike": {
                            "kms:EncryptionContext:aws:s3:arn": _encryption_context(source_bucket_arn)
                        },
                    },
                },
                {
                    "Sid": "EncryptWithDestinationKey",
                    "Effect": "Allow",
                    "Action": ["kms:Encrypt"],
                    "Resource": destination_key_arn,
                    "Condition": {
                        "StringEquals": {"kms:ViaService": f"s3.{destination_region}.amazonaws.com"},
                        "StringLike": {
                            "kms:EncryptionContext:aws:s3:arn": _encryption_context(destination_bucket_arn)
                        },
                    },
                },
            ],
        }
    )


@dataclass(frozen=True)
class DocumentBucketArgs:
    """Inputs of :class:`DocumentBucket`."""

    environment: str
    region: str
    context: AwsContext
    key_arn: pulumi.Input[str]
    protected: bool


class DocumentBucket(pulumi.ComponentResource):
    """A versioned, SSE-KMS, private, TLS-only bucket with a noncurrent-version lifecycle."""

    def __init__(self, name: str, args: DocumentBucketArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__("trading:data:DocumentBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        bucket_name = args.context.account_id.apply(
            lambda account: physical_name(
                args.environment, "documents", region=args.region, service="s3", account_id=account
            )
        )
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=bucket_name,
            force_destroy=False,
            opts=child.merge(pulumi.ResourceOptions(protect=args.protected, retain_on_delete=args.protected)),
        )
        self.ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        self.versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=child,
        )
        self.encryption = kms_encryption(f"{name}-encryption", self.bucket.id, args.key_arn, child)
        self.public_access_block = block_public_access(f"{name}-public-access", self.bucket.id, child)
        self.policy = aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=self.bucket.id,
            policy=tls_only_policy(self.bucket.arn),
            # S3 rejects policy writes racing the public access block of the same bucket.
            opts=child.merge(pulumi.ResourceOptions(depends_on=[self.public_access_block])),
        )
        self.lifecycle = aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="noncurrent-versions",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    noncurrent_version_transitions=[
                        aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionTransitionArgs(
                            noncurrent_days=NONCURRENT_TO_IA_DAYS, storage_class="STANDARD_IA"
                        )
                    ],
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=NONCURRENT_EXPIRATION_DAYS
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=ABORT_MULTIPART_DAYS
                    ),
                )
            ],
            opts=child.merge(pulumi.ResourceOptions(depends_on=[self.versioning])),
        )
        self.register_outputs({"bucketName": self.bucket.bucket, "bucketArn": self.bucket.arn})


@dataclass(frozen=True)
class BucketReplicationArgs:
    """Inputs of :class:`BucketReplication` (one direction)."""

    environment: str
    source_region: str
    destination_region: str
    context: AwsContext
    source: DocumentBucket
    destination: DocumentBucket
    source_key_arn: pulumi.Input[str]
    destination_key_arn: pulumi.Input[str]


class BucketReplication(pulumi.ComponentResource):
    """Replication from one bucket to the other, with its own least-privilege role."""

    def __init__(self, name: str, args: BucketReplicationArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__("trading:data:BucketReplication", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        src, dst = args.source_region, args.destination_region
        self.rule_id = replication_rule_id(src, dst)
        role_name = physical_name(args.environment, "s3-replication", region=src, service="iam-role")
        self.role = aws.iam.Role(
            f"{name}-role",
            name=role_name,
            description=f"S3 replication of trade documents {src} -> {dst}",
            assume_role_policy=service_trust_policy("s3.amazonaws.com", args.context.account_id),
            opts=child,
        )
        self.role_policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            name=role_name,
            policy=replication_policy(
                args.source.bucket.arn,
                args.destination.bucket.arn,
                args.source_key_arn,
                args.destination_key_arn,
                src,
                dst,
            ),
            opts=child,
        )
        self.config = aws.s3.BucketReplicationConfig(
            f"{name}-config",
            bucket=args.source.bucket.id,
            role=self.role.arn,
            rules=[
                aws.s3.BucketReplicationConfigRuleArgs(
                    id=self.rule_id,
                    status="Enabled",
                    priority=1,
                    filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=""),
                    delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(
                        status="Enabled"
                    ),
                    source_selection_criteria=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
                        sse_kms_encrypted_objects=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                            status="Enabled"
                        ),
                        replica_modifications=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaReplicaModificationsArgs(
                            status="Enabled"
                        ),
                    ),
                    destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
                        bucket=args.destination.bucket.arn,
                        storage_class="STANDARD",
                        encryption_configuration=aws.s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                            replica_kms_key_id=args.destination_key_arn
                        ),
                        replication_time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeArgs(
                            status="Enabled",
                            time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeTimeArgs(
                                minutes=REPLICATION_MINUTES
                            ),
                        ),
                        metrics=aws.s3.BucketReplicationConfigRuleDestinationMetricsArgs(
                            status="Enabled",
                            event_threshold=aws.s3.BucketReplicationConfigRuleDestinationMetricsEventThresholdArgs(
                                minutes=REPLICATION_MINUTES
                            ),
                        ),
                    ),
                )
            ],
            # S3 refuses replication unless both buckets are versioned; the role needs its grants.
            opts=child.merge(
                pulumi.ResourceOptions(
                    depends_on=[args.source.versioning, args.destination.versioning, self.role_policy]
                )
            ),
        )
        self.register_outputs({"ruleId": self.rule_id, "roleArn": self.role.arn})


@dataclass(frozen=True)
class DocumentStorageArgs:
    """Inputs of :class:`DocumentStorage`: per region its provider and key."""

    environment: str
    primary_region: str
    secondary_region: str
    context: AwsContext
    providers: Mapping[str, aws.Provider]
    key_arns: Mapping[str, pulumi.Input[str]]
    protected: bool


class DocumentStorage(pulumi.ComponentResource):
    """Both buckets and both replication directions."""

    def __init__(
        self, name: str, args: DocumentStorageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("trading:data:DocumentStorage", name, None, opts)
        regions = (args.primary_region, args.secondary_region)
        self.buckets: dict[str, DocumentBucket] = {
            region: DocumentBucket(
                f"{name}-{region}",
                DocumentBucketArgs(
                    args.environment, region, args.context, args.key_arns[region], args.protected
                ),
                pulumi.ResourceOptions(parent=self, providers=[args.providers[region]]),
            )
            for region in regions
        }
        self.replications: list[BucketReplication] = []
        for src, dst in (regions, regions[::-1]):
            self.replications.append(
                BucketReplication(
                    f"{name}-replication-{region_code(src)}-to-{region_code(dst)}",
                    BucketReplicationArgs(
                        environment=args.environment,
                        source_region=src,
                        destination_region=dst,
                        context=args.context,
                        source=self.buckets[src],
                        destination=self.buckets[dst],
                        source_key_arn=args.key_arns[src],
                        destination_key_arn=args.key_arns[dst],
                    ),
                    # The configuration belongs to the source bucket, so its region's provider.
                    pulumi.ResourceOptions(parent=self, providers=[args.providers[src]]),
                )
            )
        self.rule_ids = [r.rule_id for r in self.replications]
        self.register_outputs({"replicationRuleIds": self.rule_ids})
