"""Plan the real trading-edge program against the real data plan and region-stack fixtures.

The region fixtures are shaped exactly like ``shared/contracts/region.py`` declares (every
required key, the custom-domain keys when asked for), with realistic ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.contracts import data as data_contract
from shared.contracts import region as rc
from shared.contracts import stack_reference_name
from shared.plan.runner import StackPlan
from shared.regions import region_code
from tests.planning import data_plan, plan

ACCOUNT = "123456789012"


def region_exports(env: str, region: str, *, domain: bool = False) -> dict[str, Any]:
    """What a trading-region stack of ``env`` in ``region`` exports."""
    code = region_code(region)
    api_id = f"a{code}xyz12"[:10]
    invoke_url = f"https://{api_id}.execute-api.{region}.amazonaws.com/{env}"
    exports: dict[str, Any] = {
        rc.REGION: region,
        rc.API_ID: api_id,
        rc.API_NAME: f"trading-{env}-api-{code}",
        rc.STAGE_NAME: env,
        rc.INVOKE_URL: invoke_url,
        rc.HEALTH_URL: f"{invoke_url}/health",
        rc.ACTIVE_HEALTH_URL: f"{invoke_url}/health/active",
        rc.API_FUNCTION_NAME: f"trading-{env}-api-{code}",
        rc.API_FUNCTION_ARN: f"arn:aws:lambda:{region}:{ACCOUNT}:function:trading-{env}-api-{code}",
        rc.PROCESSOR_FUNCTION_NAME: f"trading-{env}-processor-{code}",
        rc.PROCESSOR_FUNCTION_ARN: (
            f"arn:aws:lambda:{region}:{ACCOUNT}:function:trading-{env}-processor-{code}"
        ),
        rc.ACCESS_LOG_GROUP_NAME: f"/aws/apigateway/trading-{env}-api-{code}",
    }
    if domain:
        exports[rc.CUSTOM_DOMAIN_TARGET] = f"d-{code}abcdef.execute-api.{region}.amazonaws.com"
        exports[rc.CUSTOM_DOMAIN_ZONE_ID] = "Z1UJRXOUMOOFQ8" if region == "us-east-1" else "ZOJJZC49E0EPZ"
    return exports


def environment_exports(
    env: str = "dev", data_overrides: Mapping[str, str] | None = None, *, domain: bool = False
) -> dict[str, dict[str, Any]]:
    """Exports of the data stack (really planned) and of both region stacks (fixtures)."""
    data = data_plan(env, data_overrides)
    exports: dict[str, dict[str, Any]] = {stack_reference_name("trading-data", env): dict(data.outputs)}
    for region in data.outputs[data_contract.REGIONS]:
        exports[stack_reference_name("trading-region", f"{env}-{region}")] = region_exports(
            env, region, domain=domain
        )
    return exports


def edge_plan(
    env: str = "dev",
    overrides: Mapping[str, str | None] | None = None,
    data_overrides: Mapping[str, str] | None = None,
    *,
    domain: bool = False,
    exports: dict[str, dict[str, Any]] | None = None,
) -> StackPlan:
    """Plan ``projects/edge`` for ``env``."""
    return plan(
        "edge",
        env,
        overrides,
        exports=exports if exports is not None else environment_exports(env, data_overrides, domain=domain),
    )
