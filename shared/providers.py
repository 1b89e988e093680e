"""Explicit regional AWS providers (D1): built once, handed to every resource and invoke."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pulumi
import pulumi_aws as aws

from shared.regions import region_code


class RegionalProviders:
    """One ``aws.Provider`` per region, with the product's tags as default tags.

    The stack config disables the default AWS provider, so a resource created without one of
    these fails at preview instead of landing in the ambient region.
    """

    def __init__(self, prefix: str, regions: Iterable[str], tags: Mapping[str, str]) -> None:
        self._providers: dict[str, aws.Provider] = {}
        for region in dict.fromkeys(regions):
            self._providers[region] = aws.Provider(
                f"{prefix}-aws-{region_code(region)}",
                region=region,
                default_tags=aws.ProviderDefaultTagsArgs(tags=dict(tags)),
            )

    @property
    def regions(self) -> tuple[str, ...]:
        """Regions in the order they were given."""
        return tuple(self._providers)

    def __getitem__(self, region: str) -> aws.Provider:
        try:
            return self._providers[region]
        except KeyError:
            raise KeyError(f"no provider for region {region!r}; have {self.regions}") from None

    def opts(self, region: str, **kwargs: object) -> pulumi.ResourceOptions:
        """Resource options that pin a resource to ``region``'s provider."""
        return pulumi.ResourceOptions(provider=self[region], **kwargs)  # type: ignore[arg-type]

    def invoke(self, region: str) -> pulumi.InvokeOptions:
        """Invoke options that pin a lookup to ``region``'s provider."""
        return pulumi.InvokeOptions(provider=self[region])


def stack_provider(
    name: str, region: pulumi.Input[str], tags: pulumi.Input[Mapping[str, str]]
) -> aws.Provider:
    """The one ``aws.Provider`` of a single-region stack, with default tags that may be Outputs.

    For stacks that read their tags (and the set of allowed regions) from another stack:
    ``region`` may be an Output that resolves only once it has been checked, so every resource
    on this provider waits for the check, and a failed check creates nothing.
    """
    return aws.Provider(name, region=region, default_tags=aws.ProviderDefaultTagsArgs(tags=tags))
