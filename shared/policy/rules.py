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
    rule_id: str, description: str, *, severity: str = MANDATORY
) -> Callable[
    [Callable[[PlanView], Iterable[tuple[str, str]]]], Callable[[PlanView], Iterable[tuple[str, str]]]
]:
    """Register a :class:`StackRule` (decorator)."""

    def wrap(
        fn: Callable[[PlanView], Iterable[tuple[str, str]]],
    ) -> Callable[[PlanView], Iterable[tuple[str, str]]]:
        _register(StackRule(rule_id, severity, description, fn))
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


def _statements(policy: Any) -> Iterator[dict[str, Any]]:
    for stmt in _as_list(_policy_doc(policy).get("Statement")):
        if isinstance(stmt, dict) and stmt.get("Effect", "Allow") == "Allow":
            yield stmt


@resource_rule(
    "no-wildcard-on-data",
    "IAM grants on data services name their resources",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/policy:Policy",
)
def _iam_wildcards(r: ResourceView) -> Iterator[str]:
    for stmt in _statements(r.inputs.get("policy")):
        actions = [str(a) for a in _as_list(stmt.get("Action"))]
        resources = [str(x) for x in _as_list(stmt.get("Resource"))]
        if any(a == "*" or a.endswith(":*") for a in actions):
            yield f"statement {stmt.get('Sid', '?')} grants a wildcard action {actions}"
        data_actions = [a for a in actions if a.split(":")[0] in DATA_SERVICES]
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


@resource_rule(
    "secondary-cluster-no-credentials",
    "A secondary member carries no credentials, database name or managed password",
    "aws:rds/cluster:Cluster",
)
def _secondary_credentials(r: ResourceView) -> Iterator[str]:
    if r.inputs.get("manageMasterUserPassword"):
        yield "manageMasterUserPassword is set; global databases don't support RDS-managed passwords"
    is_secondary = (
        bool(r.inputs.get("globalClusterIdentifier"))
        and not r.inputs.get("masterUsername")
        and "secondary" in r.name
    )
    if "secondary" in r.name or is_secondary:
        present = [k for k in _CREDENTIAL_INPUTS if r.inputs.get(k) not in (None, "", False)]
        if present:
            yield f"secondary cluster sets {present}; it inherits them from the primary"


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
        yield "", "stack config does not list aws in pulumi:disable-default-providers"


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
