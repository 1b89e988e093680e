"""AWS regions this product knows, and their short codes used in physical names."""

from __future__ import annotations

#: Commercial regions that support Aurora PostgreSQL global databases and DynamoDB global tables.
REGION_CODES: dict[str, str] = {
    "us-east-1": "use1",
    "us-east-2": "use2",
    "us-west-1": "usw1",
    "us-west-2": "usw2",
    "ca-central-1": "cac1",
    "eu-west-1": "euw1",
    "eu-west-2": "euw2",
    "eu-west-3": "euw3",
    "eu-central-1": "euc1",
    "eu-north-1": "eun1",
    "ap-northeast-1": "apne1",
    "ap-northeast-2": "apne2",
    "ap-southeast-1": "apse1",
    "ap-southeast-2": "apse2",
    "ap-south-1": "aps1",
    "sa-east-1": "sae1",
}

#: Availability zones an account can use where that is fewer than the three a network spans
#: (us-west-1 has a third zone that is closed to new accounts).
USABLE_ZONE_COUNTS: dict[str, int] = {"us-west-1": 2}
#: Zones a regional network spans at most.
MAX_NETWORK_ZONES = 3


def network_zone_count(region: str) -> int:
    """How many availability zones (and private subnets) a network in ``region`` spans."""
    return min(MAX_NETWORK_ZONES, USABLE_ZONE_COUNTS.get(region, MAX_NETWORK_ZONES))


#: Route 53 health-check metrics (``AWS/Route53 HealthCheckStatus``) exist only here.
ROUTE53_METRICS_REGION = "us-east-1"


def region_code(region: str) -> str:
    """Return the short code of a known region (``us-east-1`` → ``use1``)."""
    try:
        return REGION_CODES[region]
    except KeyError:
        raise ValueError(f"unknown region {region!r}; allowed: {', '.join(sorted(REGION_CODES))}") from None
