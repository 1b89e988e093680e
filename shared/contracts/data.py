"""The data contract: what ``trading-data`` exports and ``trading-region``/``trading-edge`` read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from shared.contracts import require_output

PROJECT = "trading-data"

ENVIRONMENT = "environment"
PRIMARY_REGION = "primaryRegion"
SECONDARY_REGION = "secondaryRegion"
REGIONS = "regions"
TAGS = "tags"
GLOBAL_CLUSTER_ID = "globalClusterId"
GLOBAL_CLUSTER_ARN = "globalClusterArn"
GLOBAL_WRITER_ENDPOINT = "globalWriterEndpoint"
TABLE_NAME = "tableName"
TABLE_ARN = "tableArn"
REPLICATION_RULE_IDS = "replicationRuleIds"
REGIONAL = "regional"
# Not in SPEC §4's list but read by consumers (targets for the RTO/RPO budget, engine version).
RTO_SECONDS = "rtoSeconds"
RPO_SECONDS = "rpoSeconds"
ENGINE_VERSION = "engineVersion"

#: Keys of each ``regional[<region>]`` object.
VPC_ID = "vpcId"
PRIVATE_SUBNET_IDS = "privateSubnetIds"
APP_SECURITY_GROUP_ID = "appSecurityGroupId"
KMS_KEY_ARN = "kmsKeyArn"
CLUSTER_ID = "clusterId"
CLUSTER_ARN = "clusterArn"
READER_ENDPOINT = "readerEndpoint"
BUCKET_NAME = "bucketName"
BUCKET_ARN = "bucketArn"
SECRET_ARN = "secretArn"
TABLE_REPLICA_ARN = "tableReplicaArn"
TABLE_STREAM_ARN = "tableStreamArn"

TOP_LEVEL_KEYS = (
    ENVIRONMENT,
    PRIMARY_REGION,
    SECONDARY_REGION,
    REGIONS,
    TAGS,
    GLOBAL_CLUSTER_ID,
    GLOBAL_CLUSTER_ARN,
    GLOBAL_WRITER_ENDPOINT,
    TABLE_NAME,
    TABLE_ARN,
    REPLICATION_RULE_IDS,
    REGIONAL,
)
REGIONAL_KEYS = (
    VPC_ID,
    PRIVATE_SUBNET_IDS,
    APP_SECURITY_GROUP_ID,
    KMS_KEY_ARN,
    CLUSTER_ID,
    CLUSTER_ARN,
    READER_ENDPOINT,
    BUCKET_NAME,
    BUCKET_ARN,
    SECRET_ARN,
    TABLE_REPLICA_ARN,
    TABLE_STREAM_ARN,
)


@dataclass(frozen=True)
class RegionalData:
    """Per-region values of the data tier (inputs, so Outputs of resources fit)."""

    vpc_id: pulumi.Input[str]
    private_subnet_ids: pulumi.Input[list[str]]
    app_security_group_id: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    cluster_id: pulumi.Input[str] | None = None
    cluster_arn: pulumi.Input[str] | None = None
    reader_endpoint: pulumi.Input[str] | None = None
    bucket_name: pulumi.Input[str] | None = None
    bucket_arn: pulumi.Input[str] | None = None
    secret_arn: pulumi.Input[str] | None = None
    table_replica_arn: pulumi.Input[str] | None = None
    table_stream_arn: pulumi.Input[str] | None = None

    def as_output_object(self) -> dict[str, Any]:
        values = {
            VPC_ID: self.vpc_id,
            PRIVATE_SUBNET_IDS: self.private_subnet_ids,
            APP_SECURITY_GROUP_ID: self.app_security_group_id,
            KMS_KEY_ARN: self.kms_key_arn,
            CLUSTER_ID: self.cluster_id,
            CLUSTER_ARN: self.cluster_arn,
            READER_ENDPOINT: self.reader_endpoint,
            BUCKET_NAME: self.bucket_name,
            BUCKET_ARN: self.bucket_arn,
            SECRET_ARN: self.secret_arn,
            TABLE_REPLICA_ARN: self.table_replica_arn,
            TABLE_STREAM_ARN: self.table_stream_arn,
        }
        return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class DataContract:
    """Everything the data stack exports (SPEC §4 data contract)."""

    environment: str
    primary_region: str
    secondary_region: str
    tags: dict[str, str]
    regional: dict[str, RegionalData]
    rto_seconds: int
    rpo_seconds: int
    engine_version: str
    global_cluster_id: pulumi.Input[str] | None = None
    global_cluster_arn: pulumi.Input[str] | None = None
    global_writer_endpoint: pulumi.Input[str] | None = None
    table_name: pulumi.Input[str] | None = None
    table_arn: pulumi.Input[str] | None = None
    replication_rule_ids: pulumi.Input[list[str]] | None = None


def export_data_contract(contract: DataContract) -> None:
    """Export the data contract as stack outputs (the only place the data stack exports)."""
    values: dict[str, Any] = {
        ENVIRONMENT: contract.environment,
        PRIMARY_REGION: contract.primary_region,
        SECONDARY_REGION: contract.secondary_region,
        REGIONS: [contract.primary_region, contract.secondary_region],
        TAGS: contract.tags,
        GLOBAL_CLUSTER_ID: contract.global_cluster_id,
        GLOBAL_CLUSTER_ARN: contract.global_cluster_arn,
        GLOBAL_WRITER_ENDPOINT: contract.global_writer_endpoint,
        TABLE_NAME: contract.table_name,
        TABLE_ARN: contract.table_arn,
        REPLICATION_RULE_IDS: contract.replication_rule_ids,
        REGIONAL: {r: d.as_output_object() for r, d in contract.regional.items()},
        RTO_SECONDS: contract.rto_seconds,
        RPO_SECONDS: contract.rpo_seconds,
        ENGINE_VERSION: contract.engine_version,
    }
    for key, value in values.items():
        if value is not None:
            pulumi.export(key, value)


class DataContractReader:
    """Typed access to a data stack's outputs through ``require_output``."""

    def __init__(self, ref: pulumi.StackReference) -> None:
        self._ref = ref

    def get(self, key: str) -> pulumi.Output[Any]:
        """A top-level output (one of the constants of this module)."""
        return require_output(self._ref, key)

    def regional(self, region: str, key: str) -> pulumi.Output[Any]:
        """``regional[region][key]``; a missing region or key fails the program."""

        def pick(regional: dict[str, Any]) -> Any:
            if region not in regional:
                raise KeyError(f"data stack has no regional outputs for {region!r}")
            if key not in regional[region]:
                raise KeyError(f"data stack regional[{region!r}] has no {key!r}")
            return regional[region][key]

        return require_output(self._ref, REGIONAL).apply(pick)
