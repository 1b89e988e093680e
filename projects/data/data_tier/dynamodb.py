"""The DynamoDB global table (SPEC D5): orders, the control record, idempotency by order id.

The key schema is the runtime's (``projects/region/functions/common/trading_runtime``): items are
``pk``/``sk`` strings (``ORDER#<id>``/``ORDER``, ``CONTROL``/``CONTROL``), no secondary index, and
``expiration`` (epoch seconds) is the TTL attribute. ``tests/unit/test_data_tier.py`` checks that
these constants still match the runtime code, which the Pulumi program must not import.

Replication between the regions is asynchronous and last-writer-wins (typically about a second):
the control record's fencing documents that window in ``trading_runtime/control.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from shared.naming import physical_name

HASH_KEY = "pk"
RANGE_KEY = "sk"
TTL_ATTRIBUTE = "expiration"
STREAM_VIEW_TYPE = "NEW_AND_OLD_IMAGES"
BILLING_MODE = "PAY_PER_REQUEST"


def _replica_in(replicas: Sequence[aws.dynamodb.outputs.TableReplica] | None, region: str) -> Any:
    for replica in replicas or []:
        if replica.region_name == region:
            return replica
    raise ValueError(f"the global table reports no replica in {region}")


@dataclass(frozen=True)
class GlobalTableArgs:
    """Inputs of :class:`GlobalTable`: the table lives in ``primary_region`` (its provider)."""

    environment: str
    primary_region: str
    secondary_region: str
    #: Each region's CMK ARN; the table and its replica use their own region's key.
    key_arns: Mapping[str, pulumi.Input[str]]
    protected: bool


class GlobalTable(pulumi.ComponentResource):
    """One table in the primary region with a replica in the secondary (global tables v2019)."""

    def __init__(self, name: str, args: GlobalTableArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__("trading:data:GlobalTable", name, None, opts)
        self.table_name = physical_name(args.environment, "orders", service="dynamodb")
        self.table = aws.dynamodb.Table(
            f"{name}-table",
            name=self.table_name,
            billing_mode=BILLING_MODE,
            hash_key=HASH_KEY,
            range_key=RANGE_KEY,
            attributes=[
                aws.dynamodb.TableAttributeArgs(name=HASH_KEY, type="S"),
                aws.dynamodb.TableAttributeArgs(name=RANGE_KEY, type="S"),
            ],
            stream_enabled=True,
            stream_view_type=STREAM_VIEW_TYPE,
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                enabled=True, kms_key_arn=args.key_arns[args.primary_region]
            ),
            ttl=aws.dynamodb.TableTtlArgs(attribute_name=TTL_ATTRIBUTE, enabled=True),
            deletion_protection_enabled=args.protected,
            # The primary region is the table itself; listing it as a replica is an API error.
            replicas=[
                aws.dynamodb.TableReplicaArgs(
                    region_name=args.secondary_region,
                    kms_key_arn=args.key_arns[args.secondary_region],
                    point_in_time_recovery=True,
                    deletion_protection_enabled=args.protected,
                    propagate_tags=True,
                )
            ],
            opts=pulumi.ResourceOptions(parent=self, protect=args.protected, retain_on_delete=args.protected),
        )
        replica = self.table.replicas.apply(lambda replicas: _replica_in(replicas, args.secondary_region))
        #: Per region: the table's (primary) or replica's ARN and stream ARN.
        self.replica_arns: dict[str, pulumi.Output[str]] = {
            args.primary_region: self.table.arn,
            args.secondary_region: replica.apply(lambda r: r.arn or ""),
        }
        self.stream_arns: dict[str, pulumi.Output[str]] = {
            args.primary_region: self.table.stream_arn,
            args.secondary_region: replica.apply(lambda r: r.stream_arn or ""),
        }
        self.register_outputs({"tableName": self.table.name, "tableArn": self.table.arn})
