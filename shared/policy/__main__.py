"""``python -m shared.policy PLAN.json [...]``: apply the policy rules to plan files.

Prints one line per finding (severity, rule, resource, reason); exits 1 on any mandatory one.
Given the plan files of a whole environment (data, regions, edge), it also judges the RTO/RPO
budget (SPEC S6) of each environment among them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from shared.policy.budget import budget_findings, compute_budget
from shared.policy.rules import MANDATORY, PlanView, evaluate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.policy", description=__doc__)
    parser.add_argument("plans", nargs="+", type=Path, help="plan files (build/plan/*.json)")
    args = parser.parse_args(argv)
    mandatory = 0
    by_environment: dict[str, list[dict[str, object]]] = {}
    for path in args.plans:
        try:
            document = json.loads(path.read_text())
        except FileNotFoundError:
            print(f"error: PLAN={path}: no such file (run `make plan` first)", file=sys.stderr)
            return 2
        except ValueError as exc:
            print(f"error: PLAN={path}: not JSON ({exc})", file=sys.stderr)
            return 2
        if not isinstance(document, dict) or "resources" not in document:
            print(f"error: PLAN={path}: not a plan file (no 'resources')", file=sys.stderr)
            return 2
        findings = evaluate(document)
        by_environment.setdefault(PlanView(document).environment(), []).append(document)
        for f in findings:
            mandatory += f["severity"] == MANDATORY
            print(f"{f['severity']}: {f['rule']}: {f['urn'] or path.name}: {f['message']}")
        print(
            f"{path}: {len(findings)} finding(s), "
            f"{sum(f['severity'] == MANDATORY for f in findings)} mandatory"
        )
    for environment, documents in by_environment.items():
        if not any(d.get("project") == "trading-data" for d in documents):
            continue  # the targets live in the data plan
        findings = budget_findings(compute_budget(documents))
        for f in findings:
            mandatory += f["severity"] == MANDATORY
            print(f"{f['severity']}: {f['rule']}: {f['urn'] or environment}: {f['message']}")
        print(
            f"budget of {environment}: {len(findings)} finding(s), "
            f"{sum(f['severity'] == MANDATORY for f in findings)} mandatory"
        )
    return 1 if mandatory else 0


if __name__ == "__main__":
    sys.exit(main())
