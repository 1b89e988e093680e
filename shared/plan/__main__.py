"""``python -m shared.plan [--env dev] [--env prod]``: the offline plan of SPEC S4.

Exit codes: 0 clean, 1 a mandatory policy violation, 2 a config error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from shared.errors import ConfigError
from shared.plan.environment import PlannedStack, plan_environment, write_plan_files
from shared.plan.runner import StackPlan
from shared.plan.summary import render_summary, resources_per_region
from shared.settings import ENVIRONMENT_PATTERN


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.plan", description=__doc__)
    parser.add_argument("--env", action="append", dest="envs", help="environment (repeatable)")
    parser.add_argument("--repo", type=Path, default=Path.cwd())
    parser.add_argument("--out", type=Path, default=None, help="default: <repo>/build/plan")
    args = parser.parse_args(argv)
    envs = args.envs or ["dev"]
    out = args.out or args.repo / "build" / "plan"
    for env in envs:
        if not ENVIRONMENT_PATTERN.match(env):
            print(
                f"error: ENV={env!r} is not an environment name (^[a-z][a-z0-9-]{{1,11}}$)", file=sys.stderr
            )
            return 2
        if not (args.repo / "projects" / "data" / f"Pulumi.{env}.yaml").exists():
            print(f"error: ENV={env!r} has no projects/data/Pulumi.{env}.yaml", file=sys.stderr)
            return 2

    def report(planned: PlannedStack, plan: StackPlan, elapsed: float) -> None:
        per_region = ", ".join(f"{r}={n}" for r, n in resources_per_region(plan.document).items())
        mandatory = sum(1 for f in plan.document["policy"] if f["severity"] == "mandatory")
        print(
            f"planned {planned.project}.{planned.stack}: {len(plan.resources)} registrations "
            f"({per_region}); {mandatory} mandatory finding(s); {elapsed:.2f}s",
            flush=True,
        )

    documents = {}
    violations = 0
    for env in envs:
        try:
            plan = plan_environment(args.repo, env, on_stack=report)
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        for path in write_plan_files(plan, out):
            print(f"wrote {path}")
        print(
            f"policy rules and budget of {env}: {plan.policy_seconds * 1000:.1f} ms "
            f"over {len(plan.stacks)} plan(s)"
        )
        documents[env] = plan.documents()
        for doc in plan.documents():
            for f in doc["policy"]:
                if f["severity"] == "mandatory":
                    violations += 1
                    print(f"policy {f['rule']}: {f['urn']}: {f['message']}", file=sys.stderr)
    summary = out / "SUMMARY.md"
    summary.write_text(render_summary(documents))
    print(f"wrote {summary}")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
