"""The data tier as this region sees it: the data contract, checked for this region (SPEC R1)."""

from __future__ import annotations

from typing import Any

import pulumi

from shared.contracts import data as contract
from shared.errors import ConfigError


def check_region_of_data(region: str, regions: list[str], data_stack: str) -> str:
    """``region`` if the data stack lists it; otherwise the one-line config error of R1."""
    if region not in regions:
        raise ConfigError(
            "aws:region", region, f"one of the regions of data stack {data_stack}: {', '.join(regions)}"
        )
    return region


class RegionData:
    """Reads the data contract through ``require_output``; every value waits for the R1 check."""

    def __init__(self, ref: pulumi.StackReference, region: str, data_stack: str) -> None:
        self._reader = contract.DataContractReader(ref)
        self.region = region
        #: Resolves to the region once the data stack is known to list it; fails otherwise.
        self.checked_region: pulumi.Output[str] = self._reader.get(contract.REGIONS).apply(
            lambda regions: check_region_of_data(region, regions, data_stack)
        )

    def get(self, key: str) -> pulumi.Output[Any]:
        """A top-level data output (a constant of :mod:`shared.contracts.data`)."""
        return self.checked_region.apply(lambda _: self._reader.get(key))

    def regional(self, key: str) -> pulumi.Output[Any]:
        """``regional[<this region>][key]`` — never another region's value."""
        return self.checked_region.apply(lambda r: self._reader.regional(r, key))
