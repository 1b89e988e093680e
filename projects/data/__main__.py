"""trading-data: the global data tier. Settings → components → the data contract."""

import pulumi
from data_tier.aurora import (
    AuroraGlobalDatabase,
    AuroraGlobalDatabaseArgs,
    MasterCredentials,
    RegionalPlacement,
)
from data_tier.credentials import DatabaseCredentials, DatabaseCredentialsArgs
from data_tier.dynamodb import GlobalTable, GlobalTableArgs
from data_tier.kms import RegionalKey, RegionalKeyArgs
from data_tier.network import RegionalNetwork, RegionalNetworkArgs
from data_tier.storage import DocumentStorage, DocumentStorageArgs

from shared.aws_context import AwsContext
from shared.contracts.data import DataContract, RegionalData, export_data_contract
from shared.providers import RegionalProviders
from shared.settings import DataSettings, load_settings
from shared.tags import merge_tags, required_tags

settings: DataSettings = load_settings(DataSettings)
tags = merge_tags(required_tags(settings.environment, settings.owner, settings.cost_center), settings.tags)
providers = RegionalProviders("data", settings.regions, tags)
# ARNs in policies need the account and partition; look them up once, never hard-code them.
context = AwsContext.lookup(providers[settings.primary_region])
primary, secondary = settings.primary_region, settings.secondary_region
# Global resources live in the primary's provider; each member and replica uses its own region's.
primary_opts = pulumi.ResourceOptions(providers=[providers[primary]])

keys: dict[str, RegionalKey] = {}
networks: dict[str, RegionalNetwork] = {}
for index, region in enumerate(settings.regions):
    provider_opts = pulumi.ResourceOptions(providers=[providers[region]])
    keys[region] = RegionalKey(
        f"key-{region}",
        RegionalKeyArgs(settings.environment, region, context, settings.protected),
        provider_opts,
    )
    networks[region] = RegionalNetwork(
        f"network-{region}",
        RegionalNetworkArgs(settings.environment, region, index, providers[region]),
        provider_opts,
    )
key_arns = {region: key.arn for region, key in keys.items()}

credentials = DatabaseCredentials(
    "db-credentials",
    DatabaseCredentialsArgs(settings.environment, primary, secondary, key_arns, settings.protected),
    primary_opts,
)
database = AuroraGlobalDatabase(
    "aurora",
    AuroraGlobalDatabaseArgs(
        environment=settings.environment,
        primary_region=primary,
        secondary_region=secondary,
        engine_version=settings.engine_version,
        instance_class=settings.instance_class,
        instances_per_region=settings.instances_per_region,
        protected=settings.protected,
        credentials=MasterCredentials(
            credentials.username, credentials.password.result, credentials.database_name
        ),
        placements={
            region: RegionalPlacement(
                region=region,
                provider=providers[region],
                subnet_ids=networks[region].private_subnet_ids,
                security_group_id=networks[region].database_security_group.id,
                key_arn=key_arns[region],
            )
            for region in settings.regions
        },
    ),
    primary_opts,
)
table = GlobalTable(
    "orders",
    GlobalTableArgs(settings.environment, primary, secondary, key_arns, settings.protected),
    primary_opts,
)
storage = DocumentStorage(
    "documents",
    DocumentStorageArgs(
        environment=settings.environment,
        primary_region=primary,
        secondary_region=secondary,
        context=context,
        providers={region: providers[region] for region in settings.regions},
        key_arns=key_arns,
        protected=settings.protected,
    ),
    primary_opts,
)

regional = {
    region: RegionalData(
        vpc_id=networks[region].vpc.id,
        private_subnet_ids=networks[region].private_subnet_ids,
        app_security_group_id=networks[region].app_security_group.id,
        kms_key_arn=key_arns[region],
        cluster_id=database.members[region].cluster.id,
        cluster_arn=database.members[region].cluster.arn,
        reader_endpoint=database.members[region].cluster.reader_endpoint,
        bucket_name=storage.buckets[region].bucket.bucket,
        bucket_arn=storage.buckets[region].bucket.arn,
        secret_arn=credentials.arns[region],
        table_replica_arn=table.replica_arns[region],
        table_stream_arn=table.stream_arns[region],
    )
    for region in settings.regions
}
export_data_contract(
    DataContract(
        environment=settings.environment,
        primary_region=primary,
        secondary_region=secondary,
        tags=tags,
        regional=regional,
        rto_seconds=settings.rto_seconds,
        rpo_seconds=settings.rpo_seconds,
        engine_version=settings.engine_version,
        global_cluster_id=database.global_cluster.id,
        global_cluster_arn=database.global_cluster.arn,
        global_writer_endpoint=database.global_writer_endpoint,
        table_name=table.table.name,
        table_arn=table.table.arn,
        replication_rule_ids=storage.rule_ids,
    )
)
