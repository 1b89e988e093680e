"""The policy rules of the product, in one module (SPEC S5).

Two kinds of rule share one registry:

* :class:`ResourceRule` looks at one resource's type, inputs, region and options. It runs on
  plan files (``make plan``, ``make policy``) and, unchanged, inside the pulumi-policy pack under
  ``pulumi preview --policy-pack policies`` (``expressible_in_pack`` is true).
* :class:`StackRule` needs the whole graph (dependencies, retain-on-delete, other resources,
  the stack config) and runs on plan files only.

A rule returns messages; the engine turns them into findings ``{rule, severity, urn, message}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.runtimes import (
    CANARY_RUNTIMES,
    SUPPORTED_LAMBDA_PYTHON_RUNTIMES,
    check_canary_runtime,
    check_lambda_python_runtime,
)
from shared.tags import REQUIRED_TAG_KEYS

MANDATORY = "mandatory"
ADVISORY = "advisory"


@dataclass(frozen=True)
class ResourceView:
    """What a rule may know about one resource (same shape for plan files and the policy pack)."""

    urn: str
    type: str
    name: str
    region: str
    inputs: Mapping[str, Any]
    provider: str = ""
    protect: bool = False
    retain_on_delete: bool = False
    dependencies: tuple[str, ...] = ()
    ignore_changes: tuple[str, ...] = ()

    @classmethod
    def from_plan(cls, r: Mapping[str, Any]) -> ResourceView:
        return cls(
            urn=r["urn"],
            type=r["type"],
            name=r["name"],
            region=r.get("region", ""),
            inputs=r.get("inputs", {}),
            provider=r.get("provider", ""),
            protect=bool(r.get("protect")),
            retain_on_delete=bool(r.get("retainOnDelete")),
            dependencies=tuple(r.get("dependencies", [])),
            ignore_changes=tuple(r.get("ignoreChanges", [])),
        )


@dataclass
class PlanView:
    """A plan document with indexes rules need."""

    document: Mapping[str, Any]
    resources: list[ResourceView] = field(init=False)
    by_urn: dict[str, ResourceView] = field(init=False)

    def __post_init__(self) -> None:
        self.resources = [ResourceView.from_plan(r) for r in self.document.get("resources", [])]
        self.by_urn = {r.urn: r for r in self.resources}

    @property
    def config(self) -> Mapping[str, str]:
        return self.document.get("config", {})

    def stack_urn(self) -> str:
        """URN of the root stack resource (findings about the stack as a whole point at it)."""
        project, stack = self.document.get("project", ""), self.document.get("stack", "")
        return f"urn:pulumi:{stack}::{project}::pulumi:pulumi:Stack::{project}-{stack}"

    def of_type(self, *types: str) -> Iterator[ResourceView]:
        return (r for r in self.resources if r.type in types)

    def environment(self) -> str:
        for key, value in self.config.items():
            if key.endswith(":environment"):
                return value
        return ""


@dataclass(frozen=True)
class ResourceRule:
    """A rule over one resource at a time; also runs in the pulumi-policy pack."""

    id: str
    severity: str
    description: str
    types: tuple[str, ...]
    check: Callable[[ResourceView], Iterable[str]]
    expressible_in_pack: bool = True

    def evaluate(self, plan: PlanView) -> Iterator[tuple[str, str]]:
        for resource in plan.resources:
            if resource.type in self.types:
                for message in self.check(resource):
                    yield resource.urn, message


@dataclass(frozen=True)
class StackRule:
    """A rule that needs the whole plan (graph, options or config); offline only."""

    id: str
    severity: str
    description: str
    check: Callable[[PlanView], Iterable[tuple[str, str]]]
    expressible_in_pack: bool = False

    def evaluate(self, plan: PlanView) -> Iterator[tuple[str, str]]:
        yield from self.check(plan)


Rule = ResourceRule | StackRule
RULES: list[Rule] = []


def _register(rule: Rule) -> Rule:
    if any(r.id == rule.id for r in RULES):
        raise ValueError(f"duplicate rule id {rule.id}")
    RULES.append(rule)
    return rule


def resource_rule(
    rule_id: str, description: str, *types: str, severity: str = MANDATORY
) -> Callable[[Callable[[ResourceView], Iterable[str]]], Callable[[ResourceView], Iterable[str]]]:
    """Register a :class:`ResourceRule` (decorator)."""

    def wrap(fn: Callable[[ResourceView], Iterable[str]]) -> Callable[[ResourceView], Iterable[str]]:
        _register(ResourceRule(rule_id, severity, description, tuple(types), fn))
        return fn

    return wrap


def stack_rule(
    rule_id: str, description: str, *, severity: str = MANDATORY, expressible_in_pack: bool = False
) -> Callable[
    [Callable[[PlanView], Iterable[tuple[str, str]]]], Callable[[PlanView], Iterable[tuple[str, str]]]
]:
    """Register a :class:`StackRule` (decorator).

    ``expressible_in_pack=True`` marks a rule that reads only what pulumi-policy's stack
    validation sees (types, inputs, regions, providers, parents, dependencies, protect,
    ignore-changes) and never the stack config, outputs or retain-on-delete; the policy pack
    then runs it as a ``StackValidationPolicy``.
    """

    def wrap(
        fn: Callable[[PlanView], Iterable[tuple[str, str]]],
    ) -> Callable[[PlanView], Iterable[tuple[str, str]]]:
        _register(StackRule(rule_id, severity, description, fn, expressible_in_pack))
        return fn

    return wrap


def evaluate(document: Mapping[str, Any], rules: Iterable[Rule] | None = None) -> list[dict[str, str]]:
    """Apply ``rules`` (default: all) to a plan document; return its findings, rule order."""
    plan = PlanView(document)
    findings: list[dict[str, str]] = []
    for rule in RULES if rules is None else rules:
        for urn, message in rule.evaluate(plan):
            findings.append({"rule": rule.id, "severity": rule.severity, "urn": urn, "message": message})
    return findings


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
_ARN_REGION = re.compile(r"^arn:[^:]+:[^:]+:([a-z0-9-]*):")


def arn_region(arn: Any) -> str | None:
    """The region field of an ARN, or None when ``arn`` is not a concrete ARN."""
    if not isinstance(arn, str):
        return None
    m = _ARN_REGION.match(arn)
    return m.group(1) if m else None


def _key_in_region(what: str, key_arn: Any, region: str) -> Iterator[str]:
    if not key_arn:
        yield f"{what} is not encrypted with a customer-managed KMS key"
        return
    key_region = arn_region(key_arn)
    if key_region is not None and region and key_region != region:
        yield f"{what} uses a KMS key of {key_region}, not of its own region {region}"


def _policy_doc(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            doc = json.loads(value)
        except ValueError:
            return {}
        return doc if isinstance(doc, dict) else {}
    return value if isinstance(value, dict) else {}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# --------------------------------------------------------------------------------------------
# encryption with customer-managed keys
# --------------------------------------------------------------------------------------------
@resource_rule(
    "cmk-encryption-rds",
    "Aurora clusters are encrypted with their own region's CMK",
    "aws:rds/cluster:Cluster",
)
def _rds_cmk(r: ResourceView) -> Iterator[str]:
    if r.inputs.get("storageEncrypted") is not True:
        yield "cluster storage is not encrypted (storageEncrypted must be true)"
    yield from _key_in_region("cluster storage", r.inputs.get("kmsKeyId"), r.region)
    if r.inputs.get("performanceInsightsEnabled"):
        yield from _key_in_region(
            "Performance Insights", r.inputs.get("performanceInsightsKmsKeyId"), r.region
        )


@resource_rule(
    "cmk-encryption-dynamodb",
    "DynamoDB tables and every replica use their region's CMK",
    "aws:dynamodb/table:Table",
)
def _dynamodb_cmk(r: ResourceView) -> Iterator[str]:
    sse = r.inputs.get("serverSideEncryption") or {}
    if not sse.get("enabled"):
        yield "table has no server-side encryption with a CMK"
    else:
        yield from _key_in_region("table", sse.get("kmsKeyArn"), r.region)
    for replica in _as_list(r.inputs.get("replicas")):
        region = replica.get("regionName", "")
        yield from _key_in_region(f"replica in {region}", replica.get("kmsKeyArn"), region)


@resource_rule(
    "cmk-encryption-s3",
    "Buckets use SSE-KMS with their region's CMK",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
)
def _s3_cmk(r: ResourceView) -> Iterator[str]:
    rules = _as_list(r.inputs.get("rules"))
    if not rules:
        yield "bucket encryption has no rule"
    for rule in rules:
        default = rule.get("applyServerSideEncryptionByDefault") or {}
        if default.get("sseAlgorithm") not in ("aws:kms", "aws:kms:dsse"):
            yield f"bucket encryption is {default.get('sseAlgorithm')!r}, not SSE-KMS"
        else:
            yield from _key_in_region("bucket", default.get("kmsMasterKeyId"), r.region)


@resource_rule(
    "cmk-encryption-secret",
    "Secrets and their replicas use their region's CMK",
    "aws:secretsmanager/secret:Secret",
)
def _secret_cmk(r: ResourceView) -> Iterator[str]:
    yield from _key_in_region("secret", r.inputs.get("kmsKeyId"), r.region)
    for replica in _as_list(r.inputs.get("replicas")):
        region = replica.get("region", "")
        yield from _key_in_region(f"secret replica in {region}", replica.get("kmsKeyId"), region)


@resource_rule(
    "cmk-encryption-logs",
    "Log groups are encrypted with their region's CMK",
    "aws:cloudwatch/logGroup:LogGroup",
)
def _logs_cmk(r: ResourceView) -> Iterator[str]:
    yield from _key_in_region("log group", r.inputs.get("kmsKeyId"), r.region)


@resource_rule("cmk-encryption-sns", "Topics are encrypted with their region's CMK", "aws:sns/topic:Topic")
def _sns_cmk(r: ResourceView) -> Iterator[str]:
    key = r.inputs.get("kmsMasterKeyId")
    if isinstance(key, str) and key.startswith("alias/aws/"):
        yield "topic uses the AWS-managed key, which CloudWatch alarms cannot use"
        return
    yield from _key_in_region("topic", key, r.region)


@resource_rule("kms-rotation", "Customer-managed keys rotate", "aws:kms/key:Key")
def _kms_rotation(r: ResourceView) -> Iterator[str]:
    if r.inputs.get("enableKeyRotation") is not True:
        yield "key rotation is off"
    policy = _policy_doc(r.inputs.get("policy"))
    for stmt in _as_list(policy.get("Statement")):
        principal = stmt.get("Principal")
        if principal == "*" or (isinstance(principal, dict) and "*" in _as_list(principal.get("AWS"))):
            yield f"key policy statement {stmt.get('Sid', '?')} allows the wildcard principal"


# --------------------------------------------------------------------------------------------
# network
# --------------------------------------------------------------------------------------------
_WORLD = {"0.0.0.0/0", "::/0"}


@resource_rule(
    "no-world-open-ingress",
    "No security group admits the whole internet",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:ec2/securityGroupRule:SecurityGroupRule",
)
def _world_open(r: ResourceView) -> Iterator[str]:
    if r.type == "aws:ec2/securityGroup:SecurityGroup":
        for rule in _as_list(r.inputs.get("ingress")):
            cidrs = set(_as_list(rule.get("cidrBlocks"))) | set(_as_list(rule.get("ipv6CidrBlocks")))
            if cidrs & _WORLD:
                yield f"ingress port {rule.get('fromPort')} is open to {sorted(cidrs & _WORLD)}"
    elif r.type == "aws:ec2/securityGroupRule:SecurityGroupRule":
        cidrs = set(_as_list(r.inputs.get("cidrBlocks"))) | set(_as_list(r.inputs.get("ipv6CidrBlocks")))
        if r.inputs.get("type") == "ingress" and cidrs & _WORLD:
            yield f"ingress port {r.inputs.get('fromPort')} is open to {sorted(cidrs & _WORLD)}"
    else:
        for key in ("cidrIpv4", "cidrIpv6"):
            if r.inputs.get(key) in _WORLD:
                yield f"ingress port {r.inputs.get('fromPort')} is open to {r.inputs.get(key)}"


# --------------------------------------------------------------------------------------------
# IAM: no "*" on data resources
# --------------------------------------------------------------------------------------------
DATA_SERVICES = ("rds", "dynamodb", "s3", "secretsmanager", "kms", "sns", "sqs", "lambda")
_BROAD_MANAGED_POLICIES = frozenset({"AdministratorAccess", "PowerUserAccess"})
#: Account-level listing actions that IAM cannot scope to a resource (``Resource`` must be
#: ``*``); they name no data, so they are not a wildcard on data resources. The Synthetics
#: canary role needs ``s3:ListAllMyBuckets``, for example.
UNSCOPABLE_DATA_ACTIONS = frozenset(
    {
        "s3:ListAllMyBuckets",
        "dynamodb:ListTables",
        "dynamodb:ListStreams",
        "sns:ListTopics",
        "sqs:ListQueues",
        "lambda:ListFunctions",
        "kms:ListAliases",
        "kms:ListKeys",
        "secretsmanager:ListSecrets",
    }
)


def _statements(policy: Any) -> Iterator[dict[str, Any]]:
    for stmt in _as_list(_policy_doc(policy).get("Statement")):
        if isinstance(stmt, dict) and stmt.get("Effect", "Allow") == "Allow":
            yield stmt


@resource_rule(
    "no-wildcard-on-data",
    "IAM grants on data services name their resources",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/policy:Policy",
    "aws:iam/role:Role",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
)
def _iam_wildcards(r: ResourceView) -> Iterator[str]:
    if r.type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
        # AWS-managed "full access" policies are "*" on the service's every resource.
        arn = str(r.inputs.get("policyArn", ""))
        managed = arn.rsplit("/", 1)[-1]
        if ":aws:policy/" in arn and (managed in _BROAD_MANAGED_POLICIES or managed.endswith("FullAccess")):
            yield f"attaches the AWS-managed policy {managed}, which grants '*' on data services"
        return
    policies = (
        [p.get("policy") for p in _as_list(r.inputs.get("inlinePolicies")) if isinstance(p, dict)]
        if r.type == "aws:iam/role:Role"
        else [r.inputs.get("policy")]
    )
    for stmt in (s for policy in policies for s in _statements(policy)):
        actions = [str(a) for a in _as_list(stmt.get("Action"))]
        resources = [str(x) for x in _as_list(stmt.get("Resource"))]
        if any(a == "*" or a.endswith(":*") for a in actions):
            yield f"statement {stmt.get('Sid', '?')} grants a wildcard action {actions}"
        data_actions = [
            a for a in actions if a.split(":")[0] in DATA_SERVICES and a not in UNSCOPABLE_DATA_ACTIONS
        ]
        if data_actions and any(x == "*" or x.endswith(":*") for x in resources):
            yield f"statement {stmt.get('Sid', '?')} grants {data_actions} on '*'"


# --------------------------------------------------------------------------------------------
# Aurora global database
# --------------------------------------------------------------------------------------------
_CREDENTIAL_INPUTS = (
    "masterUsername",
    "masterPassword",
    "databaseName",
    "manageMasterUserPassword",
    "masterPasswordWo",
)


# --------------------------------------------------------------------------------------------
# DynamoDB
# --------------------------------------------------------------------------------------------
@resource_rule(
    "pitr-everywhere", "Point-in-time recovery on every table and replica", "aws:dynamodb/table:Table"
)
def _pitr(r: ResourceView) -> Iterator[str]:
    if not (r.inputs.get("pointInTimeRecovery") or {}).get("enabled"):
        yield "table has point-in-time recovery off"
    for replica in _as_list(r.inputs.get("replicas")):
        if not replica.get("pointInTimeRecovery"):
            yield f"replica in {replica.get('regionName')} has point-in-time recovery off"


# --------------------------------------------------------------------------------------------
# S3 replication
# --------------------------------------------------------------------------------------------
@resource_rule(
    "replication-rtc-metrics",
    "Every replication rule has RTC 15 min and metrics 15 min, delete markers, KMS",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
)
def _replication(r: ResourceView) -> Iterator[str]:
    rules = _as_list(r.inputs.get("rules"))
    if not rules:
        yield "replication configuration has no rule"
    for rule in rules:
        rid = rule.get("id", "?")
        dest = rule.get("destination") or {}
        rtc = dest.get("replicationTime") or {}
        metrics = dest.get("metrics") or {}
        if rtc.get("status") != "Enabled" or (rtc.get("time") or {}).get("minutes") != 15:
            yield f"rule {rid}: replication time control is not enabled at 15 minutes"
        if metrics.get("status") != "Enabled" or (metrics.get("eventThreshold") or {}).get("minutes") != 15:
            yield f"rule {rid}: replication metrics are not enabled at 15 minutes"
        if (rule.get("deleteMarkerReplication") or {}).get("status") != "Enabled":
            yield f"rule {rid}: delete markers are not replicated"
        if rule.get("filter") is None or rule.get("priority") is None:
            yield f"rule {rid}: needs a V2 filter and an explicit priority"
        kms = (rule.get("sourceSelectionCriteria") or {}).get("sseKmsEncryptedObjects") or {}
        if kms.get("status") != "Enabled":
            yield f"rule {rid}: SSE-KMS encrypted objects are not selected"
        if not (dest.get("encryptionConfiguration") or {}).get("replicaKmsKeyId"):
            yield f"rule {rid}: no destination KMS key"


@stack_rule(
    "replication-needs-versioning", "Each replication configuration depends on versioning of both buckets"
)
def _replication_versioning(plan: PlanView) -> Iterator[tuple[str, str]]:
    versionings = list(plan.of_type("aws:s3/bucketVersioning:BucketVersioning"))
    enabled = {
        v.inputs.get("bucket"): v.urn
        for v in versionings
        if (v.inputs.get("versioningConfiguration") or {}).get("status") == "Enabled"
    }
    for config in plan.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig"):
        source = config.inputs.get("bucket")
        dests = {
            str((rule.get("destination") or {}).get("bucket", "")).split(":::")[-1]
            for rule in _as_list(config.inputs.get("rules"))
        }
        for bucket in [source, *sorted(dests)]:
            urn = enabled.get(bucket)
            if urn is None:
                yield config.urn, f"bucket {bucket} has no enabled versioning"
            elif urn not in config.dependencies:
                yield config.urn, f"does not depend on the versioning of {bucket}"


# --------------------------------------------------------------------------------------------
# providers, tags, protection
# --------------------------------------------------------------------------------------------
@stack_rule("no-default-provider", "Every AWS resource uses an explicit provider")
def _default_provider(plan: PlanView) -> Iterator[tuple[str, str]]:
    explicit = {r.urn for r in plan.of_type("pulumi:providers:aws")}
    for r in plan.resources:
        if r.type.startswith("aws:") and r.provider not in explicit:
            yield r.urn, "resource is on the default AWS provider (pass a regional provider)"
    disabled = plan.config.get("pulumi:disable-default-providers", "")
    if plan.resources and "aws" not in disabled:
        yield plan.stack_urn(), "stack config does not list aws in pulumi:disable-default-providers"


@resource_rule("required-tags", "Providers carry the product's required default tags", "pulumi:providers:aws")
def _required_tags(r: ResourceView) -> Iterator[str]:
    default_tags = r.inputs.get("defaultTags")
    if isinstance(default_tags, str):
        try:
            default_tags = json.loads(default_tags)
        except ValueError:
            default_tags = {}
    tags = (default_tags or {}).get("tags") or {}
    missing = sorted(REQUIRED_TAG_KEYS - set(tags))
    if missing:
        yield f"provider default tags miss {missing}"


#: Stateful resources that must be protected in prod (SPEC D7).
STATEFUL_TYPES = (
    "aws:rds/globalCluster:GlobalCluster",
    "aws:rds/cluster:Cluster",
    "aws:dynamodb/table:Table",
    "aws:s3/bucket:Bucket",
    "aws:kms/key:Key",
    "aws:secretsmanager/secret:Secret",
)


@stack_rule("protect-stateful-in-prod", "In prod, stateful resources have protect and retainOnDelete")
def _protect_prod(plan: PlanView) -> Iterator[tuple[str, str]]:
    if plan.environment() != "prod":
        return
    for r in plan.of_type(*STATEFUL_TYPES):
        if not (r.protect and r.retain_on_delete):
            yield r.urn, "stateful resource in prod without protect and retainOnDelete"


# ============================================================================================
# data tier (SPEC D4-D7; owned by the data project) — rules over the global data tier that the
# sections above do not already cover: graph-level checks of the Aurora global database, the
# DynamoDB replicas, S3 replication both ways, and the services' own deletion protection.
# ============================================================================================
_GLOBAL_CLUSTER = "aws:rds/globalCluster:GlobalCluster"
_CLUSTER = "aws:rds/cluster:Cluster"
_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
_TABLE = "aws:dynamodb/table:Table"
_TABLE_REPLICA = "aws:dynamodb/tableReplica:TableReplica"
_BUCKET = "aws:s3/bucket:Bucket"
_BUCKET_SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
_REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
#: What AWS changes on a global database member during switchover, failover and upgrades.
GLOBAL_MEMBER_IGNORE_CHANGES = ("globalClusterIdentifier", "replicationSourceIdentifier", "engineVersion")


@dataclass(frozen=True)
class _GlobalDatabase:
    """A global cluster with its members; the *declared* primary lives in the global's region."""

    global_cluster: ResourceView
    members: list[ResourceView]

    @property
    def home_region(self) -> str:
        return self.global_cluster.region

    @property
    def secondaries(self) -> list[ResourceView]:
        return [m for m in self.members if m.region != self.home_region]

    @property
    def primaries(self) -> list[ResourceView]:
        return [m for m in self.members if m.region == self.home_region]


def _global_databases(plan: PlanView) -> Iterator[_GlobalDatabase]:
    clusters = list(plan.of_type(_CLUSTER))
    for g in plan.of_type(_GLOBAL_CLUSTER):
        ident = g.inputs.get("globalClusterIdentifier")
        members = [
            c
            for c in clusters
            if g.urn in c.dependencies or (ident and c.inputs.get("globalClusterIdentifier") == ident)
        ]
        yield _GlobalDatabase(g, members)


def _instances_of(plan: PlanView, cluster: ResourceView) -> list[ResourceView]:
    ident = cluster.inputs.get("clusterIdentifier")
    return [
        i
        for i in plan.of_type(_CLUSTER_INSTANCE)
        if cluster.urn in i.dependencies or (ident and i.inputs.get("clusterIdentifier") == ident)
    ]


@resource_rule(
    "cmk-encryption-global-cluster", "The Aurora global cluster is storage-encrypted", _GLOBAL_CLUSTER
)
def _global_encrypted(r: ResourceView) -> Iterator[str]:
    if r.inputs.get("storageEncrypted") is not True:
        yield "global cluster storage is not encrypted (storageEncrypted must be true)"


@resource_rule(
    "cmk-encryption-performance-insights",
    "Performance Insights of every Aurora instance uses its region's CMK",
    _CLUSTER_INSTANCE,
)
def _instance_pi_cmk(r: ResourceView) -> Iterator[str]:
    if not r.inputs.get("performanceInsightsEnabled"):
        yield "Performance Insights is off"
        return
    yield from _key_in_region("Performance Insights", r.inputs.get("performanceInsightsKmsKeyId"), r.region)


@stack_rule("bucket-has-cmk-encryption", "Every bucket has an SSE-KMS configuration")
def _bucket_encrypted(plan: PlanView) -> Iterator[tuple[str, str]]:
    configured: set[Any] = set()
    for sse in plan.of_type(_BUCKET_SSE):
        configured.add(sse.inputs.get("bucket"))
        configured.update(sse.dependencies)
    for bucket in plan.of_type(_BUCKET):
        if bucket.urn not in configured and bucket.inputs.get("bucket") not in configured:
            yield bucket.urn, "bucket has no server-side encryption configuration with a CMK"


@stack_rule(
    "database-ingress-from-security-groups-only",
    "The database security group admits only other security groups, never address ranges",
)
def _database_ingress(plan: PlanView) -> Iterator[tuple[str, str]]:
    db_groups = {sg for c in plan.of_type(_CLUSTER) for sg in _as_list(c.inputs.get("vpcSecurityGroupIds"))}
    for rule in plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"):
        if rule.inputs.get("securityGroupId") not in db_groups:
            continue
        for key in ("cidrIpv4", "cidrIpv6", "prefixListId"):
            if rule.inputs.get(key):
                yield rule.urn, f"database ingress from {key} {rule.inputs[key]}; use the app security group"
        if not rule.inputs.get("referencedSecurityGroupId"):
            yield rule.urn, "database ingress does not name a source security group"
    for sg in plan.of_type("aws:ec2/securityGroup:SecurityGroup"):
        for ingress in _as_list(sg.inputs.get("ingress")):
            if _as_list(ingress.get("cidrBlocks")) or _as_list(ingress.get("ipv6CidrBlocks")):
                if any(sg.urn in c.dependencies for c in plan.of_type(_CLUSTER)):
                    yield sg.urn, "database security group has an inline ingress from address ranges"


@stack_rule(
    "global-secondary-no-credentials",
    "A member outside the global cluster's region carries no credentials, database name or managed password",
    expressible_in_pack=True,
)
def _global_secondary_credentials(plan: PlanView) -> Iterator[tuple[str, str]]:
    for db in _global_databases(plan):
        for member in db.secondaries:
            present = [k for k in _CREDENTIAL_INPUTS if member.inputs.get(k) not in (None, "", False)]
            if present:
                yield member.urn, f"secondary member in {member.region} sets {present}"
        for member in db.primaries:
            if member.inputs.get("manageMasterUserPassword"):
                yield member.urn, "global databases don't support the RDS-managed master password"


@stack_rule(
    "global-secondary-waits-for-primary-instance",
    "Every secondary member depends on an instance of the primary member",
)
def _secondary_waits(plan: PlanView) -> Iterator[tuple[str, str]]:
    for db in _global_databases(plan):
        primary_instances = {i.urn for p in db.primaries for i in _instances_of(plan, p)}
        for member in db.secondaries:
            if not primary_instances & set(member.dependencies):
                yield member.urn, "secondary member does not depend on the primary's instance"
        if db.members and not db.primaries:
            yield db.global_cluster.urn, f"no member in the global cluster's region {db.home_region}"


@stack_rule(
    "global-members-ignore-drift",
    "Global database members ignore globalClusterIdentifier, replicationSourceIdentifier, engineVersion",
)
def _members_ignore_drift(plan: PlanView) -> Iterator[tuple[str, str]]:
    for db in _global_databases(plan):
        for member in db.members:
            missing = [f for f in GLOBAL_MEMBER_IGNORE_CHANGES if f not in member.ignore_changes]
            if missing:
                yield member.urn, f"member does not ignore {missing}; a failover would be fought back"
            if member.inputs.get("replicationSourceIdentifier"):
                yield (
                    member.urn,
                    "member sets replicationSourceIdentifier; membership belongs to the global cluster",
                )
        if db.global_cluster.inputs.get("sourceDbClusterIdentifier"):
            yield db.global_cluster.urn, "global cluster names a source cluster; members join it instead"


@stack_rule("global-engine-version-consistent", "The global cluster and its members share one engine version")
def _engine_versions(plan: PlanView) -> Iterator[tuple[str, str]]:
    for db in _global_databases(plan):
        expected = db.global_cluster.inputs.get("engineVersion")
        if not expected:
            yield db.global_cluster.urn, "global cluster has no engineVersion"
            continue
        for member in db.members:
            if member.inputs.get("engineVersion") != expected:
                yield (
                    member.urn,
                    f"engine version {member.inputs.get('engineVersion')!r}, global has {expected!r}",
                )


@resource_rule(
    "dynamodb-replicas-not-primary",
    "A global table never lists its own region as a replica, nor a region twice",
    _TABLE,
)
def _replicas_not_primary(r: ResourceView) -> Iterator[str]:
    regions = [replica.get("regionName") for replica in _as_list(r.inputs.get("replicas"))]
    if r.region and r.region in regions:
        yield f"the table's own region {r.region} is listed as a replica"
    for region in sorted({x for x in regions if regions.count(x) > 1}):
        yield f"replica region {region} is listed more than once"
    if regions and r.inputs.get("streamViewType") != "NEW_AND_OLD_IMAGES":
        yield "a global table needs streams with NEW_AND_OLD_IMAGES"


@resource_rule(
    "dynamodb-standalone-replica",
    "A separately managed table replica has PITR and its region's CMK",
    _TABLE_REPLICA,
)
def _standalone_replica(r: ResourceView) -> Iterator[str]:
    if not r.inputs.get("pointInTimeRecovery"):
        yield f"replica in {r.region} has point-in-time recovery off"
    yield from _key_in_region(f"replica in {r.region}", r.inputs.get("kmsKeyArn"), r.region)


def _bucket_of(value: Any) -> str:
    return str(value or "").split(":::")[-1]


@stack_rule("replication-both-ways", "Every replicated bucket also receives replication back")
def _replication_both_ways(plan: PlanView) -> Iterator[tuple[str, str]]:
    edges: set[tuple[str, str]] = set()
    configs = list(plan.of_type(_REPLICATION))
    for config in configs:
        for rule in _as_list(config.inputs.get("rules")):
            edges.add(
                (
                    _bucket_of(config.inputs.get("bucket")),
                    _bucket_of((rule.get("destination") or {}).get("bucket")),
                )
            )
    for config in configs:
        source = _bucket_of(config.inputs.get("bucket"))
        for rule in _as_list(config.inputs.get("rules")):
            dest = _bucket_of((rule.get("destination") or {}).get("bucket"))
            if (dest, source) not in edges:
                yield (
                    config.urn,
                    f"{dest} does not replicate back to {source}; writes after a failover stay put",
                )
            if ((rule.get("sourceSelectionCriteria") or {}).get("replicaModifications") or {}).get(
                "status"
            ) != "Enabled":
                yield config.urn, f"rule {rule.get('id', '?')}: replica modification sync is off"


def _role_name(role_arn: Any) -> str:
    return str(role_arn or "").rsplit("/", 1)[-1]


@stack_rule(
    "replication-role-least-privilege",
    "Each replication role decrypts with the source key, encrypts with the destination key, nothing on *",
)
def _replication_role(plan: PlanView) -> Iterator[tuple[str, str]]:
    sse_keys: dict[str, Any] = {}
    for sse in plan.of_type(_BUCKET_SSE):
        for rule in _as_list(sse.inputs.get("rules")):
            default = rule.get("applyServerSideEncryptionByDefault") or {}
            sse_keys[_bucket_of(sse.inputs.get("bucket"))] = default.get("kmsMasterKeyId")
    policies: dict[str, list[dict[str, Any]]] = {}
    for rp in plan.of_type("aws:iam/rolePolicy:RolePolicy"):
        policies.setdefault(_role_name(rp.inputs.get("role")), []).extend(
            _statements(rp.inputs.get("policy"))
        )
    for config in plan.of_type(_REPLICATION):
        role = _role_name(config.inputs.get("role"))
        statements = policies.get(role, [])
        if not statements:
            yield config.urn, f"replication role {role} has no inline policy in this stack"
            continue

        def grants(action: str, resource: Any, stmts: list[dict[str, Any]] = statements) -> bool:
            return any(
                action in _as_list(s.get("Action")) and resource in _as_list(s.get("Resource")) for s in stmts
            )

        source_key = sse_keys.get(_bucket_of(config.inputs.get("bucket")))
        if not grants("kms:Decrypt", source_key):
            yield config.urn, f"role {role} lacks kms:Decrypt on the source key {source_key}"
        for rule in _as_list(config.inputs.get("rules")):
            dest_key = ((rule.get("destination") or {}).get("encryptionConfiguration") or {}).get(
                "replicaKmsKeyId"
            )
            if not grants("kms:Encrypt", dest_key):
                yield config.urn, f"role {role} lacks kms:Encrypt on the destination key {dest_key}"
        for s in statements:
            if "*" in [str(x) for x in _as_list(s.get("Resource"))]:
                yield config.urn, f"role {role} statement {s.get('Sid', '?')} grants {s.get('Action')} on '*'"


@stack_rule(
    "service-deletion-protection-in-prod",
    "In prod, the services' own deletion protection and final snapshots are on",
)
def _service_protection(plan: PlanView) -> Iterator[tuple[str, str]]:
    if plan.environment() != "prod":
        return
    for g in plan.of_type(_GLOBAL_CLUSTER):
        if g.inputs.get("deletionProtection") is not True:
            yield g.urn, "global cluster without deletionProtection"
    for c in plan.of_type(_CLUSTER):
        if c.inputs.get("deletionProtection") is not True:
            yield c.urn, "cluster without deletionProtection"
        if c.inputs.get("skipFinalSnapshot") is not False or not c.inputs.get("finalSnapshotIdentifier"):
            yield c.urn, "cluster would be deleted without a final snapshot"
    for t in plan.of_type(_TABLE):
        if t.inputs.get("deletionProtectionEnabled") is not True:
            yield t.urn, "table without deletionProtectionEnabled"
        for replica in _as_list(t.inputs.get("replicas")):
            if replica.get("deletionProtectionEnabled") is not True:
                yield t.urn, f"replica in {replica.get('regionName')} without deletionProtectionEnabled"
    for b in plan.of_type(_BUCKET):
        if b.inputs.get("forceDestroy"):
            yield b.urn, "bucket with forceDestroy (deletes every object version with the bucket)"


# ============================================================================================
# end of the data tier section
# ============================================================================================


def rules_expressible_in_pack() -> list[ResourceRule]:
    """The rules the pulumi-policy pack runs (per-resource rules)."""
    return [r for r in RULES if isinstance(r, ResourceRule) and r.expressible_in_pack]


def stack_rules_expressible_in_pack() -> list[StackRule]:
    """The whole-graph rules the pulumi-policy pack runs as stack validation."""
    return [r for r in RULES if isinstance(r, StackRule) and r.expressible_in_pack]


# ============================================================================================
# credentials of the global database (issue 6)
# ============================================================================================
#: The plan files' stand-in for a secret value (``shared.plan.monitor.REDACTED``).
SECRET_PLACEHOLDER = "[secret]"
RANDOM_PASSWORD_TYPE = "random:index/randomPassword:RandomPassword"


@resource_rule(
    "no-managed-master-password",
    "No member of the global database uses the RDS-managed master password",
    "aws:rds/cluster:Cluster",
)
def _managed_password(r: ResourceView) -> Iterator[str]:
    if r.inputs.get("manageMasterUserPassword"):
        yield (
            "manageMasterUserPassword is set; Aurora global databases don't support the "
            "RDS-managed password (generate it with pulumi-random and store it in Secrets Manager)"
        )


@stack_rule(
    "password-generated",
    "A cluster's master password comes from random.RandomPassword, as a secret, never a literal",
    expressible_in_pack=True,
)
def _password_generated(plan: PlanView) -> Iterator[tuple[str, str]]:
    generated = {r.urn for r in plan.of_type(RANDOM_PASSWORD_TYPE)}
    for cluster in plan.of_type("aws:rds/cluster:Cluster"):
        for key in ("masterPassword", "masterPasswordWo"):
            value = cluster.inputs.get(key)
            if value in (None, ""):
                continue
            if not generated & set(cluster.dependencies):
                yield cluster.urn, f"{key} does not come from a random.RandomPassword (literal or config)"
            # The pack sees secrets unwrapped; only plan files show whether the value is secret.
            if plan.document.get("source") != PACK_SOURCE and value != SECRET_PLACEHOLDER:
                yield cluster.urn, f"{key} is a plain value, not a secret"


# ============================================================================================
# region tier: functions and API Gateway (issue 6)
# ============================================================================================
#: Optional tag that names a function's role explicitly; it wins over the name convention.
FUNCTION_ROLE_TAG = "Component"
ROLE_API = "api"
ROLE_PROCESSOR = "processor"
ROLE_ORCHESTRATOR = "orchestrator"
_ROLE_TOKENS = {
    "api": ROLE_API,
    "processor": ROLE_PROCESSOR,
    "orchestrator": ROLE_ORCHESTRATOR,
    "failover": ROLE_ORCHESTRATOR,
}
#: Timeouts a function's job needs (SPEC R2, E7): the API answers within API Gateway's 29 s
#: integration limit; the processor and the orchestrator need their full 300 s.
API_MAX_TIMEOUT_SECONDS = 29
PROCESSOR_MIN_TIMEOUT_SECONDS = 300
ORCHESTRATOR_MIN_TIMEOUT_SECONDS = 300
LAMBDA_DEFAULT_TIMEOUT_SECONDS = 3
FUNCTION_TYPE = "aws:lambda/function:Function"


def function_role(r: ResourceView) -> str | None:
    """The role of a Lambda function: ``api``, ``processor``, ``orchestrator`` or None.

    Convention (robust to logical-name changes): the ``Component`` tag if set; otherwise the
    component part of the physical name ``trading-<env>-<component>[-<region code>]`` built by
    :func:`shared.naming.physical_name` (the ``name`` input, else the logical name), where a
    hyphen-separated token ``api``, ``processor``, ``orchestrator`` or ``failover`` names the role.
    The first two tokens (product and environment) are skipped so an environment called ``api``
    does not make every function an API.
    """
    tags = r.inputs.get("tags")
    if isinstance(tags, dict) and isinstance(tags.get(FUNCTION_ROLE_TAG), str):
        return _ROLE_TOKENS.get(tags[FUNCTION_ROLE_TAG].lower())
    name = str(r.inputs.get("name") or r.name)
    tokens = name.split("-")
    if len(tokens) > 2 and tokens[0] == "trading":
        tokens = tokens[2:]
    for token in tokens:
        if token in _ROLE_TOKENS:
            return _ROLE_TOKENS[token]
    return None


def _timeout(r: ResourceView) -> int:
    value = r.inputs.get("timeout")
    return value if isinstance(value, int) else LAMBDA_DEFAULT_TIMEOUT_SECONDS


@resource_rule(
    "function-timeout",
    "Function timeouts fit their job: api <= 29 s, processor >= 300 s, orchestrator >= 300 s",
    FUNCTION_TYPE,
)
def _function_timeout(r: ResourceView) -> Iterator[str]:
    role, timeout = function_role(r), _timeout(r)
    if role == ROLE_API and timeout > API_MAX_TIMEOUT_SECONDS:
        yield f"api timeout {timeout}s exceeds API Gateway's {API_MAX_TIMEOUT_SECONDS}s integration limit"
    elif role == ROLE_PROCESSOR and timeout < PROCESSOR_MIN_TIMEOUT_SECONDS:
        yield f"processor timeout {timeout}s is below the {PROCESSOR_MIN_TIMEOUT_SECONDS}s a batch needs"
    elif role == ROLE_ORCHESTRATOR and timeout < ORCHESTRATOR_MIN_TIMEOUT_SECONDS:
        yield (
            f"orchestrator timeout {timeout}s is below the {ORCHESTRATOR_MIN_TIMEOUT_SECONDS}s a "
            "promotion and its bounded wait need"
        )


@resource_rule(
    "function-vpc-placement",
    "api and processor run in the VPC (they reach the database); the orchestrator runs outside it",
    FUNCTION_TYPE,
)
def _function_vpc(r: ResourceView) -> Iterator[str]:
    role = function_role(r)
    vpc = r.inputs.get("vpcConfig") or {}
    subnets, groups = _as_list(vpc.get("subnetIds")), _as_list(vpc.get("securityGroupIds"))
    if role in (ROLE_API, ROLE_PROCESSOR) and not (subnets and groups):
        yield f"{role} function needs the database but has no vpcConfig with subnets and security groups"
    elif role == ROLE_ORCHESTRATOR and (subnets or groups):
        yield "orchestrator is in a VPC; it must reach AWS APIs and public endpoints while a region is down"


@resource_rule(
    "orchestrator-guards",
    "The orchestrator runs once at a time (reserved concurrency 1) and has a dead-letter queue",
    FUNCTION_TYPE,
)
def _orchestrator_guards(r: ResourceView) -> Iterator[str]:
    if function_role(r) != ROLE_ORCHESTRATOR:
        return
    if r.inputs.get("reservedConcurrentExecutions") != 1:
        yield f"reservedConcurrentExecutions is {r.inputs.get('reservedConcurrentExecutions')!r}, not 1"
    if not (r.inputs.get("deadLetterConfig") or {}).get("targetArn"):
        yield "no dead-letter queue (deadLetterConfig.targetArn); a failed run would be silent"


@resource_rule(
    "lambda-runtime-supported",
    "Functions run on a supported Lambda Python runtime (shared/runtimes.py)",
    FUNCTION_TYPE,
)
def _lambda_runtime(r: ResourceView) -> Iterator[str]:
    if r.inputs.get("packageType") == "Image":
        return
    runtime = r.inputs.get("runtime")
    if runtime not in SUPPORTED_LAMBDA_PYTHON_RUNTIMES:
        try:
            check_lambda_python_runtime(runtime)  # type: ignore[arg-type]
        except ValueError as exc:
            yield str(exc)


@resource_rule(
    "stage-access-logs",
    "API stages write JSON access logs to a log group of their region",
    "aws:apigateway/stage:Stage",
)
def _stage_access_logs(r: ResourceView) -> Iterator[str]:
    settings = r.inputs.get("accessLogSettings") or {}
    destination, fmt = settings.get("destinationArn"), settings.get("format")
    if not destination or not fmt:
        yield "stage has no access logs (accessLogSettings.destinationArn and format)"
        return
    try:
        is_json = isinstance(json.loads(fmt), dict)
    except (TypeError, ValueError):
        is_json = False
    if not is_json:
        yield "access log format is not a JSON object"
    log_region = arn_region(destination)
    if log_region and r.region and log_region != r.region:
        yield f"access logs go to {log_region}, not the stage's region {r.region}"


@stack_rule(
    "stage-throttling",
    "Every stage has method settings on */* with throttling (rate and burst > 0) and metrics",
    expressible_in_pack=True,
)
def _stage_throttling(plan: PlanView) -> Iterator[tuple[str, str]]:
    settings = [
        m
        for m in plan.of_type("aws:apigateway/methodSettings:MethodSettings")
        if m.inputs.get("methodPath") == "*/*"
    ]
    for stage in plan.of_type("aws:apigateway/stage:Stage"):
        mine = [
            m.inputs.get("settings") or {}
            for m in settings
            if m.inputs.get("restApi") == stage.inputs.get("restApi")
            and m.inputs.get("stageName") == stage.inputs.get("stageName")
        ]
        if not mine:
            yield stage.urn, "stage has no method settings on */* (throttling and metrics)"
            continue
        s = mine[0]
        for key in ("throttlingRateLimit", "throttlingBurstLimit"):
            value = s.get(key)
            if not isinstance(value, int | float) or value <= 0:
                yield stage.urn, f"method settings {key} is {value!r}; throttling needs a positive limit"
        if s.get("metricsEnabled") is not True:
            yield stage.urn, "method settings do not enable metrics"


@resource_rule(
    "function-tracing-active",
    "The api and processor functions trace with X-Ray (tracingConfig.mode Active)",
    FUNCTION_TYPE,
)
def _function_tracing(r: ResourceView) -> Iterator[str]:
    if function_role(r) in (ROLE_API, ROLE_PROCESSOR):
        mode = (r.inputs.get("tracingConfig") or {}).get("mode")
        if mode != "Active":
            yield f"tracingConfig.mode is {mode!r}, not 'Active'"


@resource_rule(
    "stream-mapping-guards",
    "A stream consumer filters its records, reports partial batch failures and has an on-failure destination",
    "aws:lambda/eventSourceMapping:EventSourceMapping",
)
def _stream_mapping(r: ResourceView) -> Iterator[str]:
    if "/stream/" not in str(r.inputs.get("eventSourceArn", "")):
        return
    if "ReportBatchItemFailures" not in _as_list(r.inputs.get("functionResponseTypes")):
        yield "functionResponseTypes lacks ReportBatchItemFailures: one bad record retries the whole batch"
    if not ((r.inputs.get("destinationConfig") or {}).get("onFailure") or {}).get("destinationArn"):
        yield "no on-failure destination: records that exhaust their retries would be dropped silently"
    if not _as_list((r.inputs.get("filterCriteria") or {}).get("filters")):
        yield "no filter criteria: the consumer would also process records of the other region"


@resource_rule(
    "invoke-permission-scoped",
    "A Lambda permission for an AWS service names the source (sourceArn)",
    "aws:lambda/permission:Permission",
)
def _invoke_scoped(r: ResourceView) -> Iterator[str]:
    principal = str(r.inputs.get("principal", ""))
    if principal.endswith(".amazonaws.com") and not r.inputs.get("sourceArn"):
        yield f"{principal} may invoke the function from any source (no sourceArn)"
    source = r.inputs.get("sourceArn")
    if principal == "apigateway.amazonaws.com" and isinstance(source, str) and source.endswith(":*"):
        yield "sourceArn allows every API of the account; scope it to the API's execution ARN"


@resource_rule(
    "api-regional-endpoint",
    "The REST API has a regional endpoint (its region's own entry point for failover DNS)",
    "aws:apigateway/restApi:RestApi",
)
def _api_regional(r: ResourceView) -> Iterator[str]:
    types = _as_list((r.inputs.get("endpointConfiguration") or {}).get("types"))
    if types != ["REGIONAL"]:
        yield f"endpoint types are {types or 'EDGE (default)'}, not REGIONAL"


@resource_rule(
    "log-group-retention",
    "Log groups keep their events for a set number of days",
    "aws:cloudwatch/logGroup:LogGroup",
    severity=ADVISORY,
)
def _log_retention(r: ResourceView) -> Iterator[str]:
    retention = r.inputs.get("retentionInDays")
    if not isinstance(retention, int) or retention <= 0:
        yield "retentionInDays is not set: events are kept (and paid for) forever"


# ============================================================================================
# edge tier: health checks, alarms, topics, canaries, failover wiring (issue 6)
# ============================================================================================
#: Route 53 accepts only these request intervals (SPEC E2, S1).
HEALTH_CHECK_INTERVALS = (10, 30)
HEALTH_CHECK_DEFAULT_INTERVAL = 30
MIN_HEALTH_CHECKER_REGIONS = 3
#: The only region where Route 53 publishes ``HealthCheckStatus`` metrics.
HEALTH_CHECK_METRICS_REGION = "us-east-1"
METRIC_ALARM_TYPE = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM_TYPE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
HEALTH_CHECK_TYPE = "aws:route53/healthCheck:HealthCheck"


@resource_rule(
    "healthcheck-interval",
    "Route 53 health checks probe every 10 or 30 seconds",
    HEALTH_CHECK_TYPE,
)
def _healthcheck_interval(r: ResourceView) -> Iterator[str]:
    interval = r.inputs.get("requestInterval", HEALTH_CHECK_DEFAULT_INTERVAL)
    if interval not in HEALTH_CHECK_INTERVALS:
        yield f"requestInterval is {interval!r}; Route 53 allows only {list(HEALTH_CHECK_INTERVALS)}"


@resource_rule(
    "healthcheck-shape",
    "Health checks are HTTPS on 443, measure latency and use at least three checker regions",
    HEALTH_CHECK_TYPE,
)
def _healthcheck_shape(r: ResourceView) -> Iterator[str]:
    if r.inputs.get("type") not in ("HTTPS", "HTTPS_STR_MATCH"):
        yield f"type is {r.inputs.get('type')!r}, not HTTPS"
    if r.inputs.get("port", 443) != 443:
        yield f"port is {r.inputs.get('port')!r}, not 443"
    if r.inputs.get("measureLatency") is not True:
        yield "measureLatency is off"
    regions = r.inputs.get("regions")
    if regions is not None and len(_as_list(regions)) < MIN_HEALTH_CHECKER_REGIONS:
        yield f"{len(_as_list(regions))} checker region(s); at least {MIN_HEALTH_CHECKER_REGIONS} are needed"


def alarm_metrics(r: ResourceView) -> list[tuple[str, str]]:
    """``(namespace, metricName)`` of a metric alarm, including those inside ``metricQueries``."""
    found = []
    if r.inputs.get("metricName"):
        found.append((str(r.inputs.get("namespace", "")), str(r.inputs["metricName"])))
    for query in _as_list(r.inputs.get("metricQueries")):
        metric = (query.get("metric") or {}) if isinstance(query, dict) else {}
        if metric.get("metricName"):
            found.append((str(metric.get("namespace", "")), str(metric["metricName"])))
    return found


@resource_rule(
    "healthcheck-alarm-us-east-1",
    "Alarms on Route 53 HealthCheckStatus live in us-east-1 (the only region with those metrics)",
    METRIC_ALARM_TYPE,
)
def _healthcheck_alarm_region(r: ResourceView) -> Iterator[str]:
    if ("AWS/Route53", "HealthCheckStatus") in alarm_metrics(r) and r.region != HEALTH_CHECK_METRICS_REGION:
        yield (
            f"HealthCheckStatus alarm is in {r.region or 'no region'}; Route 53 publishes those "
            f"metrics only in {HEALTH_CHECK_METRICS_REGION}, so it would never leave INSUFFICIENT_DATA"
        )


@resource_rule(
    "alarm-actions-same-region",
    "Every alarm has alarm and OK actions, all on targets of its own region",
    METRIC_ALARM_TYPE,
    COMPOSITE_ALARM_TYPE,
)
def _alarm_actions(r: ResourceView) -> Iterator[str]:
    if r.inputs.get("actionsEnabled") is False:
        yield "actionsEnabled is false"
    for key in ("alarmActions", "okActions"):
        if not _as_list(r.inputs.get(key)):
            yield f"alarm has no {key}"
    for key in ("alarmActions", "okActions", "insufficientDataActions"):
        for action in _as_list(r.inputs.get(key)):
            action_region = arn_region(action)
            if action_region and r.region and action_region != r.region:
                yield f"{key} target {action} is in {action_region}, not the alarm's region {r.region}"


@resource_rule(
    "alarm-missing-data-explicit",
    "Every metric alarm states its missing-data policy",
    METRIC_ALARM_TYPE,
)
def _alarm_missing_data(r: ResourceView) -> Iterator[str]:
    if r.inputs.get("treatMissingData") not in ("breaching", "notBreaching", "ignore", "missing"):
        yield "treatMissingData is not set explicitly"


_ALARM_TERM = re.compile(r'ALARM\(\s*("?)([^")]+)\1\s*\)')


def composite_references(rule: str) -> list[str]:
    """The alarm names or ARNs inside a composite alarm rule's ``ALARM(...)`` terms."""
    return [m.group(2).strip() for m in _ALARM_TERM.finditer(rule)]


def alarm_name_of(reference: str) -> str:
    """The alarm name of an alarm ARN (``arn:...:alarm:<name>``) or of a bare name."""
    return reference.split(":alarm:", 1)[1] if ":alarm:" in reference else reference


@resource_rule(
    "composite-alarm-or",
    "Composite alarms are an OR of ALARM() terms on alarms of their own region",
    COMPOSITE_ALARM_TYPE,
)
def _composite_or(r: ResourceView) -> Iterator[str]:
    rule = r.inputs.get("alarmRule")
    if not isinstance(rule, str) or not composite_references(rule):
        yield "alarmRule references no ALARM() term"
        return
    rest = _ALARM_TERM.sub(" ", rule)
    words = set(re.findall(r"[A-Za-z_]+", rest))
    if "AND" in words:
        yield "alarmRule joins alarms with AND: one failing signal must be enough (use OR)"
    other = sorted(words - {"OR", "AND"})
    if other or re.search(r"[^\sA-Za-z_()]", rest):
        yield f"alarmRule has terms other than OR of ALARM(): {other or rest.split()}"
    for ref in composite_references(rule):
        ref_region = arn_region(ref)
        if ref_region and r.region and ref_region != r.region:
            yield f"alarmRule references {alarm_name_of(ref)} in {ref_region}; composites see only {r.region}"


@resource_rule(
    "canary-runtime-supported",
    "Canaries run on a supported, non-deprecated Node.js Puppeteer runtime (shared/runtimes.py)",
    "aws:synthetics/canary:Canary",
)
def _canary_runtime(r: ResourceView) -> Iterator[str]:
    runtime = r.inputs.get("runtimeVersion")
    if runtime not in CANARY_RUNTIMES:
        try:
            check_canary_runtime(runtime)  # type: ignore[arg-type]
        except ValueError as exc:
            yield str(exc)


@resource_rule(
    "canary-shape",
    "Canaries probe every minute and delete their Lambda with them",
    "aws:synthetics/canary:Canary",
)
def _canary_shape(r: ResourceView) -> Iterator[str]:
    if r.inputs.get("deleteLambda") is not True:
        yield "deleteLambda is off: the canary's function and layer would outlive it"
    expression = str((r.inputs.get("schedule") or {}).get("expression", ""))
    if expression not in ("rate(1 minute)", "rate(1 minutes)"):
        yield f"schedule is {expression or 'missing'!r}, not rate(1 minute)"


_CLOUDWATCH_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")


def _principal_services(stmt: Mapping[str, Any]) -> set[str]:
    principal = stmt.get("Principal")
    if isinstance(principal, dict):
        return {str(s) for s in _as_list(principal.get("Service"))}
    return set()


def _grants(stmt: Mapping[str, Any], action: str) -> bool:
    actions = [str(a) for a in _as_list(stmt.get("Action"))]
    prefix = action.rstrip("*")
    return any(
        a in (action, "kms:*", "*") or (a.endswith("*") and prefix.startswith(a[:-1])) for a in actions
    )


@resource_rule(
    "sns-key-usable-by-cloudwatch",
    "A key that encrypts topics also lets CloudWatch alarms use it (kms:Decrypt, kms:GenerateDataKey*)",
    "aws:kms/key:Key",
    "aws:kms/replicaKey:ReplicaKey",
)
def _sns_key_cloudwatch(r: ResourceView) -> Iterator[str]:
    statements = list(_statements(r.inputs.get("policy")))
    if not any("sns.amazonaws.com" in _principal_services(s) for s in statements):
        return
    cloudwatch = [s for s in statements if "cloudwatch.amazonaws.com" in _principal_services(s)]
    missing = [a for a in _CLOUDWATCH_KEY_ACTIONS if not any(_grants(s, a) for s in cloudwatch)]
    if missing:
        yield (
            f"key policy admits SNS but not cloudwatch.amazonaws.com for {missing}: an encrypted "
            "topic would accept the alarm's publish and deliver nothing"
        )


def _orchestrators(plan: PlanView) -> list[ResourceView]:
    return [f for f in plan.of_type(FUNCTION_TYPE) if function_role(f) == ROLE_ORCHESTRATOR]


def _function_arn_names(arn: Any) -> str:
    return str(arn).split(":function:", 1)[-1].split(":", 1)[0]


@stack_rule(
    "cross-region-subscription",
    "The primary's topic delivers to the orchestrator in the secondary (subscription in the "
    "topic's region, invoke permission in the function's region with the topic as source)",
)
def _cross_region_subscription(plan: PlanView) -> Iterator[tuple[str, str]]:
    subscriptions = [
        s
        for s in plan.of_type("aws:sns/topicSubscription:TopicSubscription")
        if s.inputs.get("protocol") == "lambda"
    ]
    permissions = list(plan.of_type("aws:lambda/permission:Permission"))
    topic_arns = (plan.document.get("outputs") or {}).get("topicArns")
    for fn in _orchestrators(plan):
        name = str(fn.inputs.get("name") or fn.name)
        if isinstance(topic_arns, dict) and topic_arns:
            primaries = sorted(r for r in topic_arns if r != fn.region)
        else:
            primaries = sorted({t.region for t in plan.of_type("aws:sns/topic:Topic")} - {fn.region})
        for primary in primaries:
            subs = [
                s
                for s in subscriptions
                if arn_region(s.inputs.get("topic")) == primary
                and _function_arn_names(s.inputs.get("endpoint")) == name
            ]
            if not subs:
                yield fn.urn, f"no subscription from the {primary} topic to the orchestrator in {fn.region}"
                continue
            for s in subs:
                if s.region != primary:
                    yield s.urn, f"subscription is created in {s.region}, not in its topic's region {primary}"
                permitted = [
                    p
                    for p in permissions
                    if p.inputs.get("principal") == "sns.amazonaws.com"
                    and p.inputs.get("sourceArn") == s.inputs.get("topic")
                    and _function_arn_names(p.inputs.get("function")) == name
                ]
                if not permitted:
                    yield s.urn, "no lambda.Permission lets that topic (as sourceArn) invoke the orchestrator"
                for p in permitted:
                    if p.region != fn.region:
                        yield p.urn, f"invoke permission is in {p.region}, not the function's {fn.region}"


# Filled in by ``shared.policy.pack`` for documents built from pulumi-policy stack validation.
PACK_SOURCE = "policy-pack"
