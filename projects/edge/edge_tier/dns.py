"""Failover alias records (SPEC E3), when ``domainName`` and ``hostedZoneId`` are configured."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


def _required(value: str | None, what: str) -> str:
    if not value:
        raise ValueError(
            f"the region stack does not export {what}: set domainName in the region stacks "
            "(trading-region:domainName) before configuring a domain for the edge"
        )
    return value


@dataclass(frozen=True)
class FailoverRecordArgs:
    """Inputs of :class:`FailoverRecord`."""

    domain_name: str
    hosted_zone_id: str
    failover_type: str  # PRIMARY | SECONDARY
    set_identifier: str
    health_check_id: pulumi.Input[str]
    target_domain: pulumi.Input[str | None]
    target_zone_id: pulumi.Input[str | None]


class FailoverRecord(pulumi.ComponentResource):
    """One failover alias record pointing at a regional custom domain, guarded by its check."""

    def __init__(self, name: str, args: FailoverRecordArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__("trading:edge:FailoverRecord", name, None, opts)
        self.record = aws.route53.Record(
            f"{name}-record",
            zone_id=args.hosted_zone_id,
            name=args.domain_name,
            type="A",
            set_identifier=args.set_identifier,
            failover_routing_policies=[aws.route53.RecordFailoverRoutingPolicyArgs(type=args.failover_type)],
            health_check_id=args.health_check_id,
            aliases=[
                aws.route53.RecordAliasArgs(
                    name=pulumi.Output.from_input(args.target_domain).apply(
                        lambda v: _required(v, "customDomainTarget")
                    ),
                    zone_id=pulumi.Output.from_input(args.target_zone_id).apply(
                        lambda v: _required(v, "customDomainZoneId")
                    ),
                    evaluate_target_health=True,
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"fqdn": self.record.fqdn})
