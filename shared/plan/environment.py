"""Plan a whole environment: data, then each region (primary first), then edge (SPEC S4)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.contracts import stack_reference_name
from shared.plan.runner import StackPlan, plan_stack
from shared.plan.stackfiles import load_stack_config
from shared.policy.budget import budget_findings, compute_budget
from shared.policy.rules import evaluate

DATA_PROJECT = "trading-data"
REGION_PROJECT = "trading-region"
EDGE_PROJECT = "trading-edge"


@dataclass(frozen=True)
class PlannedStack:
    """One stack of the environment, in deployment order."""

    project: str
    directory: Path
    stack: str


@dataclass
class EnvironmentPlan:
    """Plans of every stack of one environment, in order, with timings."""

    environment: str
    stacks: list[tuple[PlannedStack, StackPlan, float]] = field(default_factory=list)
    #: Wall time of the policy rules (and the budget) over every plan of the environment.
    policy_seconds: float = 0.0

    def documents(self) -> list[dict[str, Any]]:
        return [plan.document for _, plan, _ in self.stacks]


def stacks_of(repo: Path, environment: str) -> list[PlannedStack]:
    """The environment's stacks in deployment order; projects without a program are skipped."""
    projects = repo / "projects"
    order = [PlannedStack(DATA_PROJECT, projects / "data", environment)]
    data_cfg = load_stack_config(projects / "data", environment).values
    regions = [
        data_cfg.get(f"{DATA_PROJECT}:primaryRegion", "us-east-1"),
        data_cfg.get(f"{DATA_PROJECT}:secondaryRegion", "us-east-2"),
    ]
    has_regions = (projects / "region" / "__main__.py").exists()
    if has_regions:
        order += [PlannedStack(REGION_PROJECT, projects / "region", f"{environment}-{r}") for r in regions]
    # The edge stack reads every region stack: without the region program there is nothing to
    # plan it against (its unit tests feed it region-contract fixtures instead).
    if has_regions and (projects / "edge" / "__main__.py").exists():
        order.append(PlannedStack(EDGE_PROJECT, projects / "edge", environment))
    return order


def plan_environment(
    repo: Path,
    environment: str,
    on_stack: Callable[[PlannedStack, StackPlan, float], None] | None = None,
) -> EnvironmentPlan:
    """Plan every stack of ``environment``, feeding each stack's exports to its consumers."""
    result = EnvironmentPlan(environment)
    exports: dict[str, dict[str, Any]] = {}
    for planned in stacks_of(repo, environment):
        config = load_stack_config(planned.directory, planned.stack)
        started = time.perf_counter()
        plan = plan_stack(planned.directory, config, stack_exports=exports)
        rules_started = time.perf_counter()
        plan.document["policy"] = evaluate(plan.document)
        result.policy_seconds += time.perf_counter() - rules_started
        elapsed = time.perf_counter() - started
        exports[stack_reference_name(planned.project, planned.stack)] = plan.outputs
        result.stacks.append((planned, plan, elapsed))
        if on_stack:
            on_stack(planned, plan, elapsed)
    # The RTO/RPO budget spans the environment (data targets, edge timings): judge it once all
    # stacks are planned and file each finding with the plan of the resource it names (the edge
    # plan when it names none), so the plan files and the exit code carry it.
    budget_started = time.perf_counter()
    documents = result.documents()
    for finding in budget_findings(compute_budget(documents)):
        owner = next((d for d in documents if any(r["urn"] == finding["urn"] for r in d["resources"])), None)
        owner = owner or next((d for d in documents if d["project"] == EDGE_PROJECT), documents[0])
        owner["policy"].append(finding)
    result.policy_seconds += time.perf_counter() - budget_started
    return result


def write_plan_files(plan: EnvironmentPlan, out_dir: Path) -> list[Path]:
    """Write ``<project>.<stack>.json`` for every stack; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for planned, stack_plan, _ in plan.stacks:
        path = out_dir / f"{planned.project}.{planned.stack}.json"
        path.write_text(json.dumps(stack_plan.document, indent=2, sort_keys=False) + "\n")
        paths.append(path)
    return paths
