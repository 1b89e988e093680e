"""Synthetics canaries (SPEC E6): one per region, probing ``/health`` of both regions every minute.

The script is ``projects/edge/canary/`` (``index.js`` + ``probe.js``), zipped here the way the
Node.js Synthetics runtimes load it (``nodejs/node_modules/``), deterministically, so the canary
only changes when the code does.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from edge_tier.alarms import AlarmSpec, metric_alarm
from shared.aws_context import AwsContext
from shared.buckets import block_public_access, kms_encryption
from shared.iam import service_trust_policy

CANARY_DIR = Path(__file__).resolve().parent.parent / "canary"
CANARY_FILES = ("index.js", "probe.js")
ARTIFACT_EXPIRY_DAYS = 30
CANARY_TIMEOUT_SECONDS = 60
PROBE_TIMEOUT_MS = 5000
#: Two of three one-minute runs failing: one lost run is not a page.
SUCCESS_PERCENT_THRESHOLD = 100


def build_canary_zip(destination: Path) -> Path:
    """Write the canary archive (fixed timestamps and modes: same code, same bytes).

    Written to a unique temporary file and renamed, so concurrent plans (parallel tests, two
    stacks) never see or clobber a half-written archive.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=destination.name + ".", dir=destination.parent)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in CANARY_FILES:
                info = zipfile.ZipInfo(f"nodejs/node_modules/{name}", date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, (CANARY_DIR / name).read_bytes())
        os.replace(temporary, destination)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return destination


def step_name(target_name: str) -> str:
    """The Synthetics step of one target (``index.js`` names steps ``health-<name>``)."""
    return f"health-{target_name}"


@dataclass(frozen=True)
class RegionalCanaryArgs:
    """Inputs of :class:`RegionalCanary`."""

    canary_name: pulumi.Input[str]
    bucket_name: pulumi.Input[str]
    role_name: pulumi.Input[str]
    alarm_name: pulumi.Input[str]
    region: pulumi.Input[str]
    runtime: str
    zip_path: Path
    targets_json: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    topic_arn: pulumi.Input[str]
    context: AwsContext
    protected: bool = False
    #: The alarm on this region's own step: the canary's verdict on *its* region alone.
    own_alarm_name: pulumi.Input[str] | None = None
    #: When set, an extra alarm on this target's step (the secondary's view of the primary).
    witness_target: pulumi.Input[str] | None = None
    witness_alarm_name: pulumi.Input[str] | None = None


class RegionalCanary(pulumi.ComponentResource):
    """Canary, its encrypted artifact bucket (same region), its role and its alarms."""

    def __init__(self, name: str, args: RegionalCanaryArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__("trading:edge:RegionalCanary", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = aws.s3.Bucket(
            f"{name}-artifacts",
            bucket=args.bucket_name,
            # Outside prod, destroying the stack also empties the (expiring) artifacts.
            force_destroy=not args.protected,
            opts=child.merge(pulumi.ResourceOptions(protect=args.protected, retain_on_delete=args.protected)),
        )
        kms_encryption(f"{name}-artifacts-encryption", self.bucket.id, args.kms_key_arn, child)
        block_public_access(f"{name}-artifacts-public-access", self.bucket.id, child)
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-artifacts-lifecycle",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-artifacts",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                        days=ARTIFACT_EXPIRY_DAYS
                    ),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=1
                    ),
                )
            ],
            opts=child,
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            name=args.role_name,
            assume_role_policy=service_trust_policy("lambda.amazonaws.com"),
            opts=child,
        )
        log_groups = pulumi.Output.concat(
            "arn:",
            args.context.partition,
            ":logs:",
            args.region,
            ":",
            args.context.account_id,
            ":log-group:/aws/lambda/cwsyn-",
            args.canary_name,
            "-*",
        )
        self.policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "Artifacts",
                            "Effect": "Allow",
                            "Action": ["s3:PutObject"],
                            "Resource": pulumi.Output.concat(self.bucket.arn, "/*"),
                        },
                        {
                            "Sid": "ArtifactsBucket",
                            "Effect": "Allow",
                            "Action": ["s3:GetBucketLocation"],
                            "Resource": self.bucket.arn,
                        },
                        {
                            "Sid": "ArtifactsKey",
                            "Effect": "Allow",
                            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                            "Resource": args.kms_key_arn,
                        },
                        {
                            "Sid": "Logs",
                            "Effect": "Allow",
                            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                            "Resource": [log_groups, pulumi.Output.concat(log_groups, ":log-stream:*")],
                        },
                        {
                            # PutMetricData has no resource-level permissions; the namespace
                            # condition is the scope.
                            "Sid": "Metrics",
                            "Effect": "Allow",
                            "Action": ["cloudwatch:PutMetricData"],
                            "Resource": "*",
                            "Condition": {"StringEquals": {"cloudwatch:namespace": "CloudWatchSynthetics"}},
                        },
                    ],
                }
            ),
            opts=child,
        )
        self.canary = aws.synthetics.Canary(
            f"{name}-canary",
            name=args.canary_name,
            runtime_version=args.runtime,
            handler="index.handler",
            # Relative to the project directory (where the Pulumi CLI runs the program), so plan
            # files do not depend on where the repository is checked out.
            zip_file=os.path.relpath(args.zip_path, CANARY_DIR.parent),
            execution_role_arn=self.role.arn,
            artifact_s3_location=pulumi.Output.concat("s3://", self.bucket.bucket, "/canary/"),
            artifact_config=aws.synthetics.CanaryArtifactConfigArgs(
                s3_encryption=aws.synthetics.CanaryArtifactConfigS3EncryptionArgs(
                    encryption_mode="SSE_KMS", kms_key_arn=args.kms_key_arn
                )
            ),
            schedule=aws.synthetics.CanaryScheduleArgs(expression="rate(1 minute)"),
            run_config=aws.synthetics.CanaryRunConfigArgs(
                timeout_in_seconds=CANARY_TIMEOUT_SECONDS,
                environment_variables={
                    "TARGETS": args.targets_json,
                    "PROBE_TIMEOUT_MS": str(PROBE_TIMEOUT_MS),
                },
            ),
            # The Lambda function and layers Synthetics creates go away with the canary.
            delete_lambda=True,
            start_canary=True,
            success_retention_period=7,
            failure_retention_period=30,
            opts=child.merge(pulumi.ResourceOptions(depends_on=[self.policy])),
        )
        self.alarm = metric_alarm(
            f"{name}-success",
            AlarmSpec(
                "canary-success",
                "CloudWatchSynthetics",
                "SuccessPercent",
                {"CanaryName": self.canary.name},
                SUCCESS_PERCENT_THRESHOLD,
                comparison="LessThanThreshold",
                statistic="Average",
                # A canary that stops reporting is as bad as one that fails.
                treat_missing_data="breaching",
                description="health canary success",
            ),
            args.alarm_name,
            args.topic_arn,
            child,
        )
        # The run's SuccessPercent above covers both regions' steps, so it also fails when only
        # the *other* region is down; the regional-health composite takes this step alarm instead.
        self.own_alarm: aws.cloudwatch.MetricAlarm | None = None
        if args.own_alarm_name is not None:
            self.own_alarm = self._step_alarm(
                f"{name}-own",
                "canary-own",
                args.region,
                args.own_alarm_name,
                args.topic_arn,
                "this region's /health as seen from its own canary",
                child,
            )
        self.witness_alarm: aws.cloudwatch.MetricAlarm | None = None
        if args.witness_target is not None and args.witness_alarm_name is not None:
            self.witness_alarm = self._step_alarm(
                f"{name}-witness",
                "canary-witness",
                args.witness_target,
                args.witness_alarm_name,
                args.topic_arn,
                "the primary's /health as seen from the secondary's canary",
                child,
            )
        self.register_outputs({"canaryName": self.canary.name, "alarmArn": self.alarm.arn})

    def _step_alarm(
        self,
        name: str,
        key: str,
        target: pulumi.Input[str],
        alarm_name: pulumi.Input[str],
        topic_arn: pulumi.Input[str],
        description: str,
        opts: pulumi.ResourceOptions,
    ) -> aws.cloudwatch.MetricAlarm:
        """An alarm on one target's step of this canary."""
        return metric_alarm(
            name,
            AlarmSpec(
                key,
                "CloudWatchSynthetics",
                "SuccessPercent",
                {
                    "CanaryName": self.canary.name,
                    "StepName": pulumi.Output.from_input(target).apply(step_name),
                },
                SUCCESS_PERCENT_THRESHOLD,
                comparison="LessThanThreshold",
                statistic="Average",
                # Only an observed failure of the target counts; a silent canary is the
                # canary-success alarm's business (breaching), not a regional outage.
                treat_missing_data="notBreaching",
                description=description,
            ),
            alarm_name,
            topic_arn,
            opts,
        )
