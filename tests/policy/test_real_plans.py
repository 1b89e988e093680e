"""The rules on the real plans: zero mandatory findings, mutations flagged, timing, `make policy`."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest

from shared.policy.__main__ import main as policy_main
from shared.policy.budget import budget_findings, compute_budget
from shared.policy.rules import evaluate
from tests.planning import data_plan
from tests.policy.fixtures import edge_document
from tests.policy.test_pack import run_pack


@pytest.fixture(scope="module", params=["dev", "prod"])
def real(request: pytest.FixtureRequest) -> dict[str, Any]:
    return data_plan(request.param).document


def test_real_data_plans_have_no_mandatory_finding(real: dict[str, Any]) -> None:
    assert [f for f in evaluate(real) if f["severity"] == "mandatory"] == []


def _key_policy_without_cloudwatch(document: dict[str, Any]) -> tuple[dict[str, Any], str]:
    broken = copy.deepcopy(document)
    key = next(r for r in broken["resources"] if r["type"] == "aws:kms/key:Key")
    policy = json.loads(key["inputs"]["policy"])
    for stmt in policy["Statement"]:
        services = stmt.get("Principal", {}).get("Service")
        if isinstance(services, list) and "cloudwatch.amazonaws.com" in services:
            stmt["Principal"]["Service"] = [s for s in services if s != "cloudwatch.amazonaws.com"]
    key["inputs"]["policy"] = json.dumps(policy)
    return broken, key["urn"]


def test_real_key_without_cloudwatch_is_flagged_offline_and_in_the_pack(real: dict[str, Any]) -> None:
    broken, urn = _key_policy_without_cloudwatch(real)
    message = (
        "key policy admits SNS but not cloudwatch.amazonaws.com for ['kms:Decrypt', 'kms:GenerateDataKey*']: "
        "an encrypted topic would accept the alarm's publish and deliver nothing"
    )
    assert [
        (f["rule"], f["urn"], f["message"])
        for f in evaluate(broken)
        if f["rule"] == "sns-key-usable-by-cloudwatch"
    ] == [("sns-key-usable-by-cloudwatch", urn, message)]
    assert [v for v in run_pack(broken) if v[0] == "sns-key-usable-by-cloudwatch"] == [
        ("sns-key-usable-by-cloudwatch", urn, message)
    ]


def test_real_secondary_cluster_with_the_primarys_key_is_flagged(real: dict[str, Any]) -> None:
    broken = copy.deepcopy(real)
    clusters = [r for r in broken["resources"] if r["type"] == "aws:rds/cluster:Cluster"]
    primary = next(c for c in clusters if c["region"] == "us-east-1")
    secondary = next(c for c in clusters if c["region"] == "us-east-2")
    secondary["inputs"]["kmsKeyId"] = primary["inputs"]["kmsKeyId"]
    assert [(f["rule"], f["urn"]) for f in evaluate(broken) if f["rule"] == "cmk-encryption-rds"] == [
        ("cmk-encryption-rds", secondary["urn"])
    ]


def test_real_primary_cluster_with_a_literal_password_is_flagged(real: dict[str, Any]) -> None:
    broken = copy.deepcopy(real)
    primary = next(
        r
        for r in broken["resources"]
        if r["type"] == "aws:rds/cluster:Cluster" and r["inputs"].get("masterPassword")
    )
    primary["inputs"]["masterPassword"] = "correct-horse-battery"
    primary["dependencies"] = [d for d in primary["dependencies"] if "randomPassword" not in d]
    assert [f["message"] for f in evaluate(broken) if f["rule"] == "password-generated"] == [
        "masterPassword does not come from a random.RandomPassword (literal or config)",
        "masterPassword is a plain value, not a secret",
    ]


def test_rules_on_the_plans_of_an_environment_take_well_under_a_second() -> None:
    # The environment's plans: the real data plan, plus (until the region and edge programs
    # exist on this branch) the fixture edge plan; the budget is judged across them.
    documents = [data_plan("prod").document, edge_document()]
    started = time.perf_counter()
    for document in documents:
        evaluate(document)
    budget_findings(compute_budget(documents))
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5, f"rules took {elapsed:.3f}s"


def test_make_policy_prints_rule_resource_reason_and_fails_on_mandatory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = edge_document(interval=20)
    path = tmp_path / "trading-edge.dev.json"
    path.write_text(json.dumps(bad))
    assert policy_main([str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert (
        "mandatory: healthcheck-interval: urn:pulumi:dev::trading-edge::aws:route53/healthCheck:HealthCheck::"
        "health-us-east-1: requestInterval is 20; Route 53 allows only [10, 30]"
    ) in out
    assert out[-1] == f"{path}: 2 finding(s), 2 mandatory"


def test_make_policy_judges_the_budget_of_an_environments_plan_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = data_plan("dev").document
    data = {**data, "config": {**data["config"], "trading-data:rtoSeconds": "600"}}
    paths = []
    for name, document in (
        ("trading-data.dev.json", data),
        ("trading-edge.dev.json", edge_document(orchestrator_timeout=900)),
    ):
        paths.append(tmp_path / name)
        paths[-1].write_text(json.dumps(document))
    assert policy_main([str(p) for p in paths]) == 1
    out = capsys.readouterr().out.splitlines()
    assert (
        "mandatory: rto-budget: urn:pulumi:dev::trading-edge::aws:lambda/function:Function::orchestrator: "
        "worst-case RTO for writes is 1230 s, over rtoSeconds 600 s"
    ) in out
    assert out[-1] == "budget of dev: 2 finding(s), 1 mandatory"
