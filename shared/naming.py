"""Physical names: ``trading-<env>-<component>[-<region code>]`` within each service's rules (S2)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.regions import region_code

PRODUCT = "trading"


@dataclass(frozen=True)
class NameRule:
    """Length and character rules of one AWS service's physical names."""

    max_length: int
    pattern: re.Pattern[str]
    description: str


_LOWER_DNS = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_GENERIC = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_RDS = re.compile(r"^[a-z](?!.*--)[a-z0-9-]*[a-z0-9]$")

#: Rules per service; ``s3`` names must also be globally unique (they carry the account id).
RULES: dict[str, NameRule] = {
    "s3": NameRule(63, _LOWER_DNS, "lower-case letters, digits and hyphens"),
    "rds": NameRule(63, _RDS, "a letter, then lower-case letters, digits, single hyphens"),
    "iam-role": NameRule(64, re.compile(r"^[\w+=,.@-]+$"), "letters, digits and +=,.@_-"),
    "lambda": NameRule(64, re.compile(r"^[A-Za-z0-9_-]+$"), "letters, digits, hyphens, underscores"),
    "dynamodb": NameRule(255, re.compile(r"^[A-Za-z0-9_.-]{3,}$"), "letters, digits and _.-"),
    "sns": NameRule(256, re.compile(r"^[A-Za-z0-9_-]+$"), "letters, digits, hyphens, underscores"),
    "sqs": NameRule(80, re.compile(r"^[A-Za-z0-9_-]+$"), "letters, digits, hyphens, underscores"),
    "secret": NameRule(512, re.compile(r"^[A-Za-z0-9/_+=.@-]+$"), "letters, digits and /_+=.@-"),
    "kms-alias": NameRule(250, re.compile(r"^[A-Za-z0-9/_-]+$"), "letters, digits and /_-"),
    "log-group": NameRule(512, re.compile(r"^[A-Za-z0-9_/.#-]+$"), "letters, digits and _/.#-"),
    "alarm": NameRule(255, _GENERIC, "letters, digits and _.-"),
    "apigateway": NameRule(128, _GENERIC, "letters, digits and _.-"),
    "canary": NameRule(255, re.compile(r"^[0-9a-z_-]+$"), "lower-case letters, digits, _ and -"),
    "generic": NameRule(255, _GENERIC, "letters, digits and _.-"),
}


class NameError_(ValueError):
    """A physical name breaks its service's rules."""


def physical_name(
    environment: str,
    component: str,
    *,
    region: str | None = None,
    service: str = "generic",
    account_id: str | None = None,
) -> str:
    """Build the physical name of a resource and check it against ``service``'s rules.

    >>> physical_name("dev", "orders", region="us-east-2", service="dynamodb")
    'trading-dev-orders-use2'
    """
    parts = [PRODUCT, environment, component]
    if region:
        parts.append(region_code(region))
    if service == "s3":
        if not account_id:
            raise NameError_(f"S3 name for {component!r} needs the account id (globally unique)")
        parts.append(account_id)
    name = "-".join(parts)
    rule = RULES[service]
    if len(name) > rule.max_length:
        raise NameError_(f"{service} name {name!r} is {len(name)} characters; the limit is {rule.max_length}")
    if not rule.pattern.fullmatch(name):
        raise NameError_(f"{service} name {name!r} is not allowed: {rule.description}")
    return name


def max_environment_length() -> int:
    """Longest environment name allowed by config (see ``shared.settings``)."""
    return 12
