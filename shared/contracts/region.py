"""The region contract: what each ``trading-region`` stack exports and ``trading-edge`` reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from shared.contracts import require_output

PROJECT = "trading-region"

REGION = "region"
API_ID = "apiId"
#: The REST API's name: the ``ApiName`` dimension of its CloudWatch metrics (edge alarms).
API_NAME = "apiName"
STAGE_NAME = "stageName"
INVOKE_URL = "invokeUrl"
HEALTH_URL = "healthUrl"
ACTIVE_HEALTH_URL = "activeHealthUrl"
API_FUNCTION_NAME = "apiFunctionName"
API_FUNCTION_ARN = "apiFunctionArn"
PROCESSOR_FUNCTION_NAME = "processorFunctionName"
PROCESSOR_FUNCTION_ARN = "processorFunctionArn"
ACCESS_LOG_GROUP_NAME = "accessLogGroupName"
#: Present only when a domain is configured.
CUSTOM_DOMAIN_TARGET = "customDomainTarget"
CUSTOM_DOMAIN_ZONE_ID = "customDomainZoneId"

REQUIRED_KEYS = (
    REGION,
    API_ID,
    API_NAME,
    STAGE_NAME,
    INVOKE_URL,
    HEALTH_URL,
    ACTIVE_HEALTH_URL,
    API_FUNCTION_NAME,
    API_FUNCTION_ARN,
    PROCESSOR_FUNCTION_NAME,
    PROCESSOR_FUNCTION_ARN,
    ACCESS_LOG_GROUP_NAME,
)
DOMAIN_KEYS = (CUSTOM_DOMAIN_TARGET, CUSTOM_DOMAIN_ZONE_ID)


def region_stack_name(environment: str, region: str) -> str:
    """Short name of the region stack of ``environment`` in ``region`` (``dev-us-east-1``)."""
    return f"{environment}-{region}"


@dataclass(frozen=True)
class RegionContract:
    """Everything a region stack exports (SPEC §4 region contract)."""

    region: str
    api_id: pulumi.Input[str]
    api_name: pulumi.Input[str]
    stage_name: pulumi.Input[str]
    invoke_url: pulumi.Input[str]
    health_url: pulumi.Input[str]
    active_health_url: pulumi.Input[str]
    api_function_name: pulumi.Input[str]
    api_function_arn: pulumi.Input[str]
    processor_function_name: pulumi.Input[str]
    processor_function_arn: pulumi.Input[str]
    access_log_group_name: pulumi.Input[str]
    custom_domain_target: pulumi.Input[str] | None = None
    custom_domain_zone_id: pulumi.Input[str] | None = None


def export_region_contract(contract: RegionContract) -> None:
    """Export the region contract as stack outputs (the only place a region stack exports)."""
    values: dict[str, Any] = {
        REGION: contract.region,
        API_ID: contract.api_id,
        API_NAME: contract.api_name,
        STAGE_NAME: contract.stage_name,
        INVOKE_URL: contract.invoke_url,
        HEALTH_URL: contract.health_url,
        ACTIVE_HEALTH_URL: contract.active_health_url,
        API_FUNCTION_NAME: contract.api_function_name,
        API_FUNCTION_ARN: contract.api_function_arn,
        PROCESSOR_FUNCTION_NAME: contract.processor_function_name,
        PROCESSOR_FUNCTION_ARN: contract.processor_function_arn,
        ACCESS_LOG_GROUP_NAME: contract.access_log_group_name,
        CUSTOM_DOMAIN_TARGET: contract.custom_domain_target,
        CUSTOM_DOMAIN_ZONE_ID: contract.custom_domain_zone_id,
    }
    for key, value in values.items():
        if value is not None:
            pulumi.export(key, value)


class RegionContractReader:
    """Typed access to a region stack's outputs through ``require_output``."""

    def __init__(self, ref: pulumi.StackReference) -> None:
        self._ref = ref

    def get(self, key: str) -> pulumi.Output[Any]:
        """A required output (one of the constants of this module)."""
        return require_output(self._ref, key)

    def optional(self, key: str) -> pulumi.Output[Any]:
        """An output that exists only in some configurations (the custom-domain keys)."""
        if key not in DOMAIN_KEYS:
            raise KeyError(f"{key!r} is a required region output; use get()")
        return self._ref.get_output(key)
