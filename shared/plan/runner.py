"""Run one stack's real Pulumi program under the recording mock monitor and build its plan file."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared._pulumi_internals import run_program_with_monitor
from shared.contracts import DEFAULT_ORGANIZATION
from shared.plan.mocks import PlanMocks
from shared.plan.monitor import REDACTED, RecordingMonitor
from shared.plan.stackfiles import StackConfig

AWS_PROVIDER_TYPE = "pulumi:providers:aws"


@dataclass
class StackPlan:
    """The result of planning one stack: the plan-file document plus the raw records."""

    document: dict[str, Any]
    monitor: RecordingMonitor = field(repr=False)

    @property
    def resources(self) -> list[dict[str, Any]]:
        return self.document["resources"]

    @property
    def outputs(self) -> dict[str, Any]:
        return self.document["outputs"]


def _resource_region(reg: Any, provider_regions: dict[str, str], default_region: str) -> str:
    is_aws = reg.type.startswith("aws:") or reg.type == AWS_PROVIDER_TYPE
    if not is_aws:
        return ""
    region = reg.inputs.get("region")
    if isinstance(region, str) and region:
        return region
    if reg.provider and reg.provider in provider_regions:
        return provider_regions[reg.provider]
    return default_region


def build_document(
    project: str, stack: str, config: StackConfig, monitor: RecordingMonitor
) -> dict[str, Any]:
    """Turn the monitor's records into the SPEC §4 plan-file document (``policy`` left empty)."""
    default_region = config.values.get("aws:region", "")
    provider_regions = {
        r.urn: str(r.inputs.get("region", "")) for r in monitor.registrations if r.type == AWS_PROVIDER_TYPE
    }
    resources = []
    for reg in monitor.registrations:
        resources.append(
            {
                "urn": reg.urn,
                "type": reg.type,
                "name": reg.name,
                "region": _resource_region(reg, provider_regions, default_region),
                "provider": reg.provider,
                "parent": reg.parent,
                "dependencies": reg.dependencies,
                "protect": reg.protect,
                "retainOnDelete": reg.retain_on_delete,
                "ignoreChanges": reg.ignore_changes,
                "inputs": reg.inputs,
            }
        )
    shown_config = {k: (REDACTED if k in config.secret_keys else v) for k, v in sorted(config.values.items())}
    return {
        "project": project,
        "stack": stack,
        "config": shown_config,
        "outputs": monitor.stack_outputs,
        "resources": resources,
        "policy": [],
    }


def plan_stack(
    program_dir: Path,
    config: StackConfig,
    *,
    stack_exports: Mapping[str, Mapping[str, Any]] | None = None,
    organization: str = DEFAULT_ORGANIZATION,
    program: Callable[[], Any] | None = None,
) -> StackPlan:
    """Run ``program_dir/__main__.py`` for ``config.stack`` and return its plan.

    ``stack_exports`` maps fully qualified stack names to the outputs the stack references of
    this program receive (the exports of stacks planned before it).
    """
    mocks = PlanMocks(stack_exports=stack_exports, default_region=config.values.get("aws:region", ""))
    monitor = RecordingMonitor(mocks)
    run_program_with_monitor(
        monitor,
        project=config.project,
        stack=config.stack,
        organization=organization,
        config=config.values,
        secret_keys=config.secret_keys,
        program_dir=program_dir,
        program=program,
    )
    document = build_document(config.project, config.stack, config, monitor)
    # Round-trip through JSON so the document holds exactly what a plan file holds.
    document = json.loads(json.dumps(document))
    return StackPlan(document=document, monitor=monitor)
