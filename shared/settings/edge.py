"""Settings of ``trading-edge`` (SPEC §4 config keys).

The edge stack names only its environment and what is specific to it; regions, tags and the
data tier's identifiers come from the data stack (read through ``shared.contracts.data``).
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from pydantic import field_validator, model_validator
from pydantic.alias_generators import to_camel

from shared.contracts import stack_reference_name
from shared.errors import ConfigError
from shared.runtimes import DEFAULT_CANARY_RUNTIME, check_canary_runtime
from shared.settings.base import _Settings, check_environment

#: Route 53 accepts only these request intervals (seconds); 10 costs more and detects faster.
HEALTH_CHECK_INTERVALS = (10, 30)
#: The regions Route 53 health checkers run from (``Regions`` of a health check).
HEALTH_CHECKER_REGIONS = (
    "ap-northeast-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "eu-west-1",
    "sa-east-1",
    "us-east-1",
    "us-west-1",
    "us-west-2",
)
#: Route 53 requires at least three checker regions when any are given.
MIN_HEALTH_CHECKER_REGIONS = 3
DEFAULT_HEALTH_CHECK_REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
FAILOVER_MODES = ("automatic", "manual")
#: The orchestrator's bound: promotion (about a minute, up to a few) + probes + hand-over.
MIN_ORCHESTRATOR_TIMEOUT = 300
MAX_ORCHESTRATOR_TIMEOUT = 900  # Lambda's limit
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DOMAIN_PATTERN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
ZONE_ID_PATTERN = re.compile(r"^Z[A-Z0-9]{1,31}$")
STACK_NAME_PATTERN = re.compile(r"^([A-Za-z0-9_.-]+/){0,2}[A-Za-z0-9_.-]+$")


def _json_list(key: str, value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        raise ConfigError(key, value, "a list (YAML list or JSON array)") from None
    if not isinstance(parsed, list):
        raise ConfigError(key, value, "a list (YAML list or JSON array)")
    return parsed


class EdgeSettings(_Settings):
    """Settings of ``trading-edge``."""

    namespace: ClassVar[str] = "trading-edge"

    environment: str
    data_stack: str | None = None
    region_stacks: tuple[str, str] | None = None
    health_check_interval: int = 30
    health_check_failure_threshold: int = 3
    health_check_regions: tuple[str, ...] = DEFAULT_HEALTH_CHECK_REGIONS
    domain_name: str | None = None
    hosted_zone_id: str | None = None
    alert_email: str | None = None
    canary_runtime: str = DEFAULT_CANARY_RUNTIME
    failover_mode: str = "automatic"
    orchestrator_timeout_seconds: int = 600
    probe_count: int = 3

    @field_validator("environment")
    @classmethod
    def _environment(cls, v: str, info: Any) -> str:
        stack = (info.context or {}).get("stack")
        return check_environment(f"{cls.namespace}:environment", v, stack, v if stack else None)

    @field_validator("data_stack")
    @classmethod
    def _data_stack(cls, v: str | None) -> str | None:
        if v is not None and not STACK_NAME_PATTERN.match(v):
            raise ConfigError(f"{cls.namespace}:dataStack", v, "a stack name, <org>/<project>/<stack>")
        return v

    @field_validator("region_stacks", mode="before")
    @classmethod
    def _region_stacks(cls, v: Any) -> Any:
        key = f"{cls.namespace}:regionStacks"
        stacks = _json_list(key, v)
        if len(stacks) != 2 or not all(isinstance(s, str) and STACK_NAME_PATTERN.match(s) for s in stacks):
            raise ConfigError(key, v, "two stack names: the primary region's stack, then the secondary's")
        if stacks[0] == stacks[1]:
            raise ConfigError(key, v, "two different stacks")
        return tuple(stacks)

    @field_validator("health_check_interval")
    @classmethod
    def _interval(cls, v: int) -> int:
        if v not in HEALTH_CHECK_INTERVALS:
            raise ConfigError(f"{cls.namespace}:healthCheckInterval", v, "10 or 30 (seconds)")
        return v

    @field_validator("health_check_failure_threshold")
    @classmethod
    def _threshold(cls, v: int) -> int:
        if not 1 <= v <= 10:
            raise ConfigError(f"{cls.namespace}:healthCheckFailureThreshold", v, "an integer from 1 to 10")
        return v

    @field_validator("health_check_regions", mode="before")
    @classmethod
    def _checker_regions(cls, v: Any) -> Any:
        key = f"{cls.namespace}:healthCheckRegions"
        regions = _json_list(key, v)
        bad = [r for r in regions if r not in HEALTH_CHECKER_REGIONS]
        if bad or len(set(regions)) != len(regions) or len(regions) < MIN_HEALTH_CHECKER_REGIONS:
            raise ConfigError(
                key,
                v,
                f"at least {MIN_HEALTH_CHECKER_REGIONS} different Route 53 checker regions of "
                f"{', '.join(HEALTH_CHECKER_REGIONS)}",
            )
        return tuple(regions)

    @field_validator("domain_name")
    @classmethod
    def _domain(cls, v: str | None) -> str | None:
        if v is not None and not DOMAIN_PATTERN.match(v):
            raise ConfigError(f"{cls.namespace}:domainName", v, "a lower-case DNS name, e.g. api.example.com")
        return v

    @field_validator("hosted_zone_id")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        if v is not None and not ZONE_ID_PATTERN.match(v):
            raise ConfigError(f"{cls.namespace}:hostedZoneId", v, "a Route 53 hosted zone id (Z...)")
        return v

    @field_validator("alert_email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is not None and not EMAIL_PATTERN.match(v):
            raise ConfigError(f"{cls.namespace}:alertEmail", v, "an e-mail address")
        return v

    @field_validator("canary_runtime")
    @classmethod
    def _runtime(cls, v: str) -> str:
        try:
            return check_canary_runtime(v)
        except ValueError as exc:
            raise ConfigError(f"{cls.namespace}:canaryRuntime", v, str(exc)) from None

    @field_validator("failover_mode")
    @classmethod
    def _mode(cls, v: str) -> str:
        if v not in FAILOVER_MODES:
            raise ConfigError(f"{cls.namespace}:failoverMode", v, " or ".join(FAILOVER_MODES))
        return v

    @field_validator("orchestrator_timeout_seconds")
    @classmethod
    def _timeout(cls, v: int) -> int:
        if not MIN_ORCHESTRATOR_TIMEOUT <= v <= MAX_ORCHESTRATOR_TIMEOUT:
            raise ConfigError(
                f"{cls.namespace}:orchestratorTimeoutSeconds",
                v,
                f"an integer from {MIN_ORCHESTRATOR_TIMEOUT} to {MAX_ORCHESTRATOR_TIMEOUT}",
            )
        return v

    @field_validator("probe_count")
    @classmethod
    def _probes(cls, v: int, info: Any) -> int:
        if not 1 <= v <= 10:
            raise ConfigError(f"{cls.namespace}:{to_camel(info.field_name)}", v, "an integer from 1 to 10")
        return v

    @model_validator(mode="after")
    def _domain_and_zone(self) -> EdgeSettings:
        if (self.domain_name is None) != (self.hosted_zone_id is None):
            missing = "hostedZoneId" if self.hosted_zone_id is None else "domainName"
            raise ConfigError(
                f"{self.namespace}:{missing}", None, "domainName and hostedZoneId are set together"
            )
        return self

    @property
    def data_stack_name(self) -> str:
        """The data stack to read (default ``organization/trading-data/<environment>``)."""
        return self.data_stack or stack_reference_name("trading-data", self.environment)

    def region_stack_name(self, index: int, region: str) -> str:
        """The region stack for the primary (``index`` 0) or secondary (1) ``region``."""
        if self.region_stacks is not None:
            return self.region_stacks[index]
        return stack_reference_name("trading-region", f"{self.environment}-{region}")

    @property
    def protected(self) -> bool:
        """``prod`` keeps its stateful edge resources (artifact buckets, the alerts key) on
        delete and refuses to destroy them by accident, like the data stack's default."""
        return self.environment == "prod"

    @property
    def domain_configured(self) -> bool:
        """Failover DNS records are built only with both a domain and a zone."""
        return self.domain_name is not None
