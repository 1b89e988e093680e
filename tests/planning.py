"""Test helpers: plan a project's real program from its committed stack file, with overrides."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shared.plan.runner import StackPlan, plan_stack
from shared.plan.stackfiles import StackConfig, load_stack_config

REPO = Path(__file__).resolve().parent.parent
PROJECTS = REPO / "projects"


def stack_config(project: str, stack: str, overrides: Mapping[str, str | None] | None = None) -> StackConfig:
    """The committed config of ``projects/<project>/Pulumi.<stack>.yaml`` with overrides (None deletes)."""
    config = load_stack_config(PROJECTS / project, stack)
    values = dict(config.values)
    for key, value in (overrides or {}).items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    return dataclasses.replace(config, values=values)


def plan(
    project: str,
    stack: str,
    overrides: Mapping[str, str | None] | None = None,
    exports: Mapping[str, Mapping[str, Any]] | None = None,
    stack_name: str | None = None,
) -> StackPlan:
    """Plan one stack of ``project`` (fresh runtime each call)."""
    config = stack_config(project, stack, overrides)
    if stack_name:
        config = dataclasses.replace(config, stack=stack_name)
    return plan_stack(PROJECTS / project, config, stack_exports=exports)


@functools.cache
def _cached_data(env: str, frozen_overrides: str) -> StackPlan:
    return plan("data", env, json.loads(frozen_overrides))


def data_plan(env: str = "dev", overrides: Mapping[str, str] | None = None) -> StackPlan:
    """Cached data plan (plans are read-only in tests)."""
    return _cached_data(env, json.dumps(dict(overrides or {}), sort_keys=True))


def of_type(stack_plan: StackPlan, type_: str) -> list[dict[str, Any]]:
    return [r for r in stack_plan.resources if r["type"] == type_]


def one(stack_plan: StackPlan, type_: str, name: str) -> dict[str, Any]:
    matches = [r for r in stack_plan.resources if r["type"] == type_ and r["name"] == name]
    assert len(matches) == 1, f"expected one {type_} named {name}, found {len(matches)}"
    return matches[0]
