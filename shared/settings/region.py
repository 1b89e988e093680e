"""Settings of ``trading-region`` (SPEC §4 config keys): one stack per environment and region.

The region itself is ``aws:region`` of the stack (SPEC R1), not a ``trading-region`` key; the
stack must be named ``<environment>-<aws:region>``. Everything environment-wide (regions, tags,
endpoints) comes from the data stack, which ``dataStack`` names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import PrivateAttr, field_validator, model_validator
from pydantic.alias_generators import to_camel

from shared.contracts import DEFAULT_ORGANIZATION, stack_reference_name
from shared.contracts.data import PROJECT as DATA_PROJECT
from shared.errors import ConfigError
from shared.runtimes import DEFAULT_LAMBDA_PYTHON_RUNTIME, check_lambda_python_runtime
from shared.settings.base import _Settings, check_environment, check_region

REGION_KEY = "aws:region"
#: API Gateway's integration timeout: a slower function answers the client with a 504.
API_GATEWAY_INTEGRATION_LIMIT_SECONDS = 29
#: The processor's batch (migrations, reconnects to a moved writer) needs this long (SPEC R2).
PROCESSOR_MIN_TIMEOUT_SECONDS = 300
LAMBDA_MAX_TIMEOUT_SECONDS = 900
ARCHITECTURES = ("arm64", "x86_64")
#: The values CloudWatch Logs accepts for ``retentionInDays`` (0 = never expire is not allowed here).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
_STACK_NAME_PART = r"[A-Za-z0-9_.-]+"
DATA_STACK_PATTERN = re.compile(rf"^({_STACK_NAME_PART})/({_STACK_NAME_PART})/({_STACK_NAME_PART})$")
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
DOMAIN_PATTERN = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})+$")
HOSTED_ZONE_PATTERN = re.compile(r"^Z[A-Z0-9]{1,31}$")


class RegionSettings(_Settings):
    """Settings of one ``trading-region`` stack (``<environment>-<region>``)."""

    namespace: ClassVar[str] = "trading-region"

    environment: str
    data_stack: str | None = None
    lambda_runtime: str = DEFAULT_LAMBDA_PYTHON_RUNTIME
    lambda_architecture: str = "arm64"
    api_timeout_seconds: int = 15
    processor_timeout_seconds: int = PROCESSOR_MIN_TIMEOUT_SECONDS
    throttle_rate_limit: float = 100.0
    throttle_burst_limit: int = 200
    log_retention_days: int = 30
    manage_api_gateway_account: bool = True
    domain_name: str | None = None
    certificate_domain: str | None = None
    hosted_zone_id: str | None = None

    _region: str = PrivateAttr(default="")

    @field_validator("environment")
    @classmethod
    def _environment(cls, v: str) -> str:
        return check_environment(f"{cls.namespace}:environment", v, None, None)

    @field_validator("lambda_runtime")
    @classmethod
    def _runtime(cls, v: str) -> str:
        try:
            return check_lambda_python_runtime(v)
        except ValueError as exc:
            reason = str(exc).removeprefix(f"lambdaRuntime {v!r} ")
            raise ConfigError(f"{cls.namespace}:lambdaRuntime", v, reason) from None

    @field_validator("lambda_architecture")
    @classmethod
    def _architecture(cls, v: str) -> str:
        if v not in ARCHITECTURES:
            raise ConfigError(f"{cls.namespace}:lambdaArchitecture", v, f"one of {', '.join(ARCHITECTURES)}")
        return v

    @field_validator("api_timeout_seconds")
    @classmethod
    def _api_timeout(cls, v: int) -> int:
        if not 1 <= v <= API_GATEWAY_INTEGRATION_LIMIT_SECONDS:
            raise ConfigError(
                f"{cls.namespace}:apiTimeoutSeconds",
                v,
                f"1-{API_GATEWAY_INTEGRATION_LIMIT_SECONDS} seconds "
                "(API Gateway's integration limit is 29 s)",
            )
        return v

    @field_validator("processor_timeout_seconds")
    @classmethod
    def _processor_timeout(cls, v: int) -> int:
        if not PROCESSOR_MIN_TIMEOUT_SECONDS <= v <= LAMBDA_MAX_TIMEOUT_SECONDS:
            raise ConfigError(
                f"{cls.namespace}:processorTimeoutSeconds",
                v,
                f"{PROCESSOR_MIN_TIMEOUT_SECONDS}-{LAMBDA_MAX_TIMEOUT_SECONDS} seconds "
                "(a settlement batch needs at least 300 s; Lambda allows at most 900 s)",
            )
        return v

    @field_validator("throttle_rate_limit", "throttle_burst_limit")
    @classmethod
    def _positive(cls, v: float, info: Any) -> float:
        if v <= 0:
            kind = "a positive number" if info.field_name == "throttle_rate_limit" else "a positive integer"
            raise ConfigError(f"{cls.namespace}:{to_camel(info.field_name)}", v, kind)
        return v

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, v: int) -> int:
        if v not in LOG_RETENTION_DAYS:
            raise ConfigError(
                f"{cls.namespace}:logRetentionDays",
                v,
                f"a CloudWatch Logs retention: one of {', '.join(str(d) for d in LOG_RETENTION_DAYS)}",
            )
        return v

    @field_validator("domain_name")
    @classmethod
    def _domain(cls, v: str | None) -> str | None:
        if v is not None and not DOMAIN_PATTERN.match(v):
            raise ConfigError(
                f"{cls.namespace}:domainName", v, "a lower-case DNS name such as api.trading.example.com"
            )
        return v

    @field_validator("certificate_domain")
    @classmethod
    def _certificate_domain(cls, v: str | None) -> str | None:
        if v is not None and not DOMAIN_PATTERN.match(v.removeprefix("*.")):
            raise ConfigError(
                f"{cls.namespace}:certificateDomain",
                v,
                "a lower-case DNS name, optionally a wildcard (*.trading.example.com)",
            )
        return v

    @field_validator("hosted_zone_id")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        if v is not None and not HOSTED_ZONE_PATTERN.match(v):
            raise ConfigError(f"{cls.namespace}:hostedZoneId", v, "a Route 53 hosted zone id (Z…)")
        return v

    @model_validator(mode="after")
    def _cross_checks(self, info: Any) -> RegionSettings:
        ns = self.namespace
        context = info.context or {}
        region = context.get("region")
        if region is None:
            raise ConfigError(REGION_KEY, None, "required: the region of this stack (SPEC R1)")
        check_region(REGION_KEY, region)
        stack = context.get("stack")
        check_environment(f"{ns}:environment", self.environment, stack, f"{self.environment}-{region}")
        self._region = region
        if self.data_stack is not None:
            match = DATA_STACK_PATTERN.match(self.data_stack)
            if not match or match.group(2) != DATA_PROJECT or match.group(3) != self.environment:
                raise ConfigError(
                    f"{ns}:dataStack",
                    self.data_stack,
                    f"<org>/{DATA_PROJECT}/{self.environment} (the data stack of this environment)",
                )
        if self.domain_name is None:
            for key, value in (
                ("certificateDomain", self.certificate_domain),
                ("hostedZoneId", self.hosted_zone_id),
            ):
                if value is not None:
                    raise ConfigError(f"{ns}:{key}", value, "only together with domainName")
        elif self.certificate_domain is not None and not _covers(self.certificate_domain, self.domain_name):
            raise ConfigError(
                f"{ns}:certificateDomain",
                self.certificate_domain,
                f"must cover domainName {self.domain_name} (the same name or *.<its parent>)",
            )
        return self

    @property
    def region(self) -> str:
        """The stack's region (``aws:region``)."""
        return self._region

    @property
    def data_stack_name(self) -> str:
        """Fully qualified name of the data stack this region reads."""
        return self.data_stack or stack_reference_name(DATA_PROJECT, self.environment, DEFAULT_ORGANIZATION)

    @property
    def certificate_name(self) -> str | None:
        """The name the ACM certificate is issued for (default: ``domainName``)."""
        return self.certificate_domain or self.domain_name


def _covers(certificate: str, domain: str) -> bool:
    if certificate == domain:
        return True
    return certificate.startswith("*.") and domain.split(".", 1)[-1] == certificate[2:]


def parse_region_settings(raw: Mapping[str, str], stack: str | None) -> RegionSettings:
    """Parse a region stack's config (``aws:region`` included) into :class:`RegionSettings`."""
    region = raw.get(REGION_KEY) or None
    return RegionSettings.parse(raw, stack=stack, region=region)  # type: ignore[no-any-return]


def load_region_settings() -> RegionSettings:
    """Parse the running program's config (call at the top of ``projects/region/__main__.py``)."""
    import pulumi

    from shared._pulumi_internals import all_config

    return parse_region_settings(all_config(), pulumi.get_stack())
