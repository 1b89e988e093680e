"""Planning the real ``trading-region`` program, fed with the real data plan's exports."""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from typing import Any

from shared.contracts import data as contract
from shared.contracts import stack_reference_name
from shared.plan.runner import StackPlan
from tests.planning import data_plan, plan


def data_exports(env: str = "dev") -> dict[str, Any]:
    """A copy of the data stack's exports for ``env`` (as ``make plan`` feeds them)."""
    return copy.deepcopy(data_plan(env).outputs)


def region_plan(
    stack: str = "dev-us-east-1",
    overrides: Mapping[str, str | None] | None = None,
    exports: Mapping[str, Any] | None = None,
    stack_name: str | None = None,
) -> StackPlan:
    """Plan ``projects/region`` for ``stack`` from its committed stack file (plus overrides)."""
    env = stack.split("-", 1)[0]
    data = exports if exports is not None else data_exports(env)
    return plan(
        "region",
        stack,
        overrides,
        exports={stack_reference_name(contract.PROJECT, env): data},
        stack_name=stack_name,
    )


@functools.cache
def committed_region_plan(stack: str) -> StackPlan:
    """Cached plan of a committed stack file without overrides (plans are read-only in tests)."""
    return region_plan(stack)
