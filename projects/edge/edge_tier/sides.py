"""The two sides of the environment (primary, secondary) as the edge stack sees them.

The regions are *outputs* of the data stack — the environment's single source of truth — so
they are never unwrapped here: each side gets a provider whose ``region`` is that output, and
physical names are derived from it with ``apply`` (pure string work, no resources). Logical
names use the side's role (``primary``/``secondary``), which is what a failover does not move.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from shared.contracts import data as data_contract
from shared.contracts.data import DataContractReader
from shared.contracts.region import RegionContractReader
from shared.naming import physical_name
from shared.regions import region_code

PRIMARY = "primary"
SECONDARY = "secondary"
ROLES = (PRIMARY, SECONDARY)


@dataclass(frozen=True)
class Side:
    """One configured region: its role, region (an output), provider and the two stacks' views."""

    role: str
    region: pulumi.Output[str]
    provider: aws.Provider
    data: DataContractReader
    stack: RegionContractReader
    environment: str

    def regional(self, key: str) -> pulumi.Output[Any]:
        """``regional[<this region>][key]`` of the data contract."""
        return pulumi.Output.all(self.data.get(data_contract.REGIONAL), self.region).apply(
            lambda values: _pick(values[0], values[1], key)
        )

    def name(self, component: str, service: str = "generic") -> pulumi.Output[str]:
        """``trading-<env>-<component>-<region code>`` checked against ``service``'s rules."""
        env = self.environment
        return self.region.apply(lambda r: physical_name(env, component, region=r, service=service))

    @property
    def code(self) -> pulumi.Output[str]:
        """The region's short code (``use1``)."""
        return self.region.apply(region_code)

    def component_opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options for a component whose children all live in this side's region."""
        return pulumi.ResourceOptions(providers=[self.provider], **kwargs)


def _pick(regional: dict[str, Any], region: str, key: str) -> Any:
    if region not in regional:
        raise KeyError(f"data stack has no regional outputs for {region!r}")
    if key not in regional[region]:
        raise KeyError(f"data stack regional[{region!r}] has no {key!r}")
    return regional[region][key]


def side_provider(name: str, region: pulumi.Input[str], tags: pulumi.Input[dict[str, str]]) -> aws.Provider:
    """An explicit provider for one side (its region an output of the data stack), product tags
    as default tags. Built once per side in ``__main__`` and handed to everything there."""
    return aws.Provider(name, region=region, default_tags=aws.ProviderDefaultTagsArgs(tags=tags))


def checked_url(stack_region: str, expected_region: str, url: str, stack_name: str) -> str:
    """``url`` after checking that the region stack really is the one for ``expected_region``."""
    if stack_region != expected_region:
        raise ValueError(
            f"region stack {stack_name} exports region {stack_region!r}, but the data stack's "
            f"region for it is {expected_region!r}: fix trading-edge:regionStacks"
        )
    return url


def pick_rule_id(rule_ids: list[str], source_region: str) -> str:
    """The S3 replication rule that copies *from* ``source_region`` (``documents-use1-to-use2``)."""
    prefix = f"documents-{region_code(source_region)}-to-"
    matches = [rule for rule in rule_ids if rule.startswith(prefix)]
    if len(matches) != 1:
        raise ValueError(f"data stack replicationRuleIds {rule_ids} has no single rule {prefix}*")
    return matches[0]
