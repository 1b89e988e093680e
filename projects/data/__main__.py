"""trading-data: the global data tier. Settings → components → the data contract."""

import pulumi
from data_tier.kms import RegionalKey, RegionalKeyArgs
from data_tier.network import RegionalNetwork, RegionalNetworkArgs

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

regional: dict[str, RegionalData] = {}
for index, region in enumerate(settings.regions):
    provider_opts = pulumi.ResourceOptions(providers=[providers[region]])
    key = RegionalKey(
        f"key-{region}",
        RegionalKeyArgs(settings.environment, region, context, settings.protected),
        provider_opts,
    )
    network = RegionalNetwork(
        f"network-{region}",
        RegionalNetworkArgs(settings.environment, region, index, providers[region]),
        provider_opts,
    )
    regional[region] = RegionalData(
        vpc_id=network.vpc.id,
        private_subnet_ids=network.private_subnet_ids,
        app_security_group_id=network.app_security_group.id,
        kms_key_arn=key.arn,
    )

export_data_contract(
    DataContract(
        environment=settings.environment,
        primary_region=settings.primary_region,
        secondary_region=settings.secondary_region,
        tags=tags,
        regional=regional,
        rto_seconds=settings.rto_seconds,
        rpo_seconds=settings.rpo_seconds,
        engine_version=settings.engine_version,
    )
)
