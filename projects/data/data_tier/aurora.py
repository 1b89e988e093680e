"""The Aurora PostgreSQL global database (SPEC D4): global cluster, one member per region.

Membership and the writer's location belong to AWS after the first deployment: a switchover or
failover moves the writer, and AWS reports the members' ``globalClusterIdentifier``,
``replicationSourceIdentifier`` and ``engineVersion`` differently than the program declared them.
Both members ignore those three fields, so ``deploy-data`` while failed over changes nothing
about who is a member or who writes (see the README, "Running deploy-data while failed over").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from shared.naming import physical_name

ENGINE = "aurora-postgresql"
#: Fields AWS changes on a member during switchover, failover and minor upgrades.
MEMBER_IGNORE_CHANGES = ["globalClusterIdentifier", "replicationSourceIdentifier", "engineVersion"]
BACKUP_RETENTION_DAYS = 7
# UTC; backups before the maintenance window, both outside US trading hours.
BACKUP_WINDOW = "05:00-06:00"
MAINTENANCE_WINDOW = "sun:07:00-sun:08:00"
LOG_EXPORTS = ["postgresql"]
PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7
#: Retention of the exported ``postgresql`` log (RDS would create the group unencrypted, forever).
LOG_RETENTION_DAYS = 90
POSTGRES_PORT = 5432
#: Cluster parameters of both members (a global database needs one group per region).
CLUSTER_PARAMETERS = {
    # The functions connect with TLS (trading_runtime DB_SSL=require); refuse anything else.
    "rds.force_ssl": "1",
    "log_min_duration_statement": "1000",
    "log_lock_waits": "1",
}


def parameter_group_family(engine_version: str) -> str:
    """``16.6`` → ``aurora-postgresql16``."""
    return f"{ENGINE}{engine_version.split('.')[0]}"


@dataclass(frozen=True)
class MasterCredentials:
    """What only the primary member carries."""

    username: str
    password: pulumi.Input[str]
    database_name: str


@dataclass(frozen=True)
class RegionalPlacement:
    """Where a member lives: its network and its region's key."""

    region: str
    provider: aws.Provider
    subnet_ids: pulumi.Input[Sequence[str]]
    security_group_id: pulumi.Input[str]
    key_arn: pulumi.Input[str]


@dataclass(frozen=True)
class AuroraGlobalDatabaseArgs:
    """Inputs of :class:`AuroraGlobalDatabase` (``placements`` keyed by region)."""

    environment: str
    primary_region: str
    secondary_region: str
    engine_version: str
    instance_class: str
    instances_per_region: int
    protected: bool
    credentials: MasterCredentials
    placements: Mapping[str, RegionalPlacement]


@dataclass(frozen=True)
class AuroraMemberArgs:
    """Inputs of :class:`AuroraMember`."""

    environment: str
    global_cluster: aws.rds.GlobalCluster
    engine_version: str
    instance_class: str
    instances: int
    protected: bool
    placement: RegionalPlacement
    credentials: MasterCredentials | None
    #: What the cluster must wait for (the secondary: the primary's instances).
    depends_on: Sequence[pulumi.Resource] = ()


class AuroraMember(pulumi.ComponentResource):
    """One regional member: subnet group, parameter group, cluster, instances."""

    def __init__(self, name: str, args: AuroraMemberArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__("trading:data:AuroraMember", name, None, opts)
        env, region = args.environment, args.placement.region
        child = pulumi.ResourceOptions(parent=self)
        identifier = physical_name(env, "aurora", region=region, service="rds")

        self.subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets",
            name=identifier,
            description=f"trading {env} Aurora subnets ({region})",
            subnet_ids=args.placement.subnet_ids,
            opts=child,
        )
        self.parameter_group = aws.rds.ClusterParameterGroup(
            f"{name}-params",
            name=identifier,
            family=parameter_group_family(args.engine_version),
            description=f"trading {env} Aurora cluster parameters ({region})",
            parameters=[
                aws.rds.ClusterParameterGroupParameterArgs(name=k, value=v, apply_method="pending-reboot")
                for k, v in CLUSTER_PARAMETERS.items()
            ],
            opts=child,
        )
        # Created before the cluster so RDS exports into a group with the region's key and a
        # retention, instead of creating its own (no CMK, never expires).
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-postgresql-log",
            name=f"/aws/rds/cluster/{identifier}/postgresql",
            kms_key_id=args.placement.key_arn,
            retention_in_days=LOG_RETENTION_DAYS,
            opts=child,
        )
        creds = args.credentials
        self.cluster = aws.rds.Cluster(
            f"{name}-cluster",
            cluster_identifier=identifier,
            engine=ENGINE,
            engine_version=args.engine_version,
            global_cluster_identifier=args.global_cluster.id,
            # The secondary inherits users, password and databases from the primary.
            master_username=creds.username if creds else None,
            master_password=creds.password if creds else None,
            database_name=creds.database_name if creds else None,
            db_subnet_group_name=self.subnet_group.name,
            vpc_security_group_ids=[args.placement.security_group_id],
            db_cluster_parameter_group_name=self.parameter_group.name,
            port=POSTGRES_PORT,
            storage_encrypted=True,
            kms_key_id=args.placement.key_arn,
            backup_retention_period=BACKUP_RETENTION_DAYS,
            preferred_backup_window=BACKUP_WINDOW,
            preferred_maintenance_window=MAINTENANCE_WINDOW,
            enabled_cloudwatch_logs_exports=LOG_EXPORTS,
            copy_tags_to_snapshot=True,
            deletion_protection=args.protected,
            skip_final_snapshot=not args.protected,
            final_snapshot_identifier=f"{identifier}-final" if args.protected else None,
            opts=child.merge(
                pulumi.ResourceOptions(
                    protect=args.protected,
                    retain_on_delete=args.protected,
                    ignore_changes=MEMBER_IGNORE_CHANGES,
                    depends_on=[self.log_group, *args.depends_on],
                )
            ),
        )
        self.instances: list[aws.rds.ClusterInstance] = []
        for i in range(args.instances):
            self.instances.append(
                aws.rds.ClusterInstance(
                    f"{name}-instance-{i + 1}",
                    identifier=physical_name(env, f"aurora-{i + 1}", region=region, service="rds"),
                    cluster_identifier=self.cluster.id,
                    engine=aws.rds.EngineType(ENGINE),  # the same string; the SDK types it as an enum
                    instance_class=args.instance_class,
                    publicly_accessible=False,
                    # Minor versions move on the global cluster, deliberately, not per instance.
                    auto_minor_version_upgrade=False,
                    performance_insights_enabled=True,
                    performance_insights_kms_key_id=args.placement.key_arn,
                    performance_insights_retention_period=PERFORMANCE_INSIGHTS_RETENTION_DAYS,
                    promotion_tier=i,
                    copy_tags_to_snapshot=True,
                    opts=child,
                )
            )
        self.register_outputs(
            {
                "clusterId": self.cluster.id,
                "clusterArn": self.cluster.arn,
                "readerEndpoint": self.cluster.reader_endpoint,
            }
        )


class AuroraGlobalDatabase(pulumi.ComponentResource):
    """The global cluster with its primary and secondary members."""

    def __init__(
        self, name: str, args: AuroraGlobalDatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("trading:data:AuroraGlobalDatabase", name, None, opts)
        primary_placement = args.placements[args.primary_region]
        self.global_cluster = aws.rds.GlobalCluster(
            f"{name}-global",
            global_cluster_identifier=physical_name(args.environment, "aurora-global", service="rds"),
            engine=ENGINE,
            engine_version=args.engine_version,
            storage_encrypted=True,
            deletion_protection=args.protected,
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=primary_placement.provider,
                protect=args.protected,
                retain_on_delete=args.protected,
            ),
        )
        self.primary = AuroraMember(
            f"{name}-primary",
            self._member_args(args, args.primary_region, args.credentials),
            pulumi.ResourceOptions(parent=self, providers=[primary_placement.provider]),
        )
        secondary_placement = args.placements[args.secondary_region]
        self.secondary = AuroraMember(
            f"{name}-secondary",
            # A secondary can join only once the primary has an instance to replicate from.
            self._member_args(args, args.secondary_region, None, self.primary.instances),
            pulumi.ResourceOptions(parent=self, providers=[secondary_placement.provider]),
        )
        self.members = {args.primary_region: self.primary, args.secondary_region: self.secondary}
        #: Follows the writer through switchovers and failovers (the writers' endpoint).
        self.global_writer_endpoint: pulumi.Output[str] = self.global_cluster.endpoint
        self.register_outputs(
            {
                "globalClusterId": self.global_cluster.id,
                "globalClusterArn": self.global_cluster.arn,
                "globalWriterEndpoint": self.global_cluster.endpoint,
            }
        )

    def _member_args(
        self,
        args: AuroraGlobalDatabaseArgs,
        region: str,
        credentials: MasterCredentials | None,
        depends_on: Sequence[pulumi.Resource] = (),
    ) -> AuroraMemberArgs:
        return AuroraMemberArgs(
            environment=args.environment,
            global_cluster=self.global_cluster,
            engine_version=args.engine_version,
            instance_class=args.instance_class,
            instances=args.instances_per_region,
            protected=args.protected,
            placement=args.placements[region],
            credentials=credentials,
            depends_on=depends_on,
        )
