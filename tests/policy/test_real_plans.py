"""The rules on the real plans: zero mandatory findings, mutations flagged, timing, `make policy`."""

from __future__ import annotations

import copy
import functools
import json
import time
from pathlib import Path
from typing import Any

import pytest

from shared.plan.environment import plan_environment
from shared.policy.__main__ import main as policy_main
from shared.policy.budget import budget_findings, compute_budget
from shared.policy.rules import ResourceView, evaluate, function_role
from tests.planning import data_plan
from tests.policy.fixtures import edge_document
from tests.policy.test_pack import run_pack

REPO = Path(__file__).resolve().parents[2]


@functools.cache
def environment_documents(env: str) -> tuple[dict[str, Any], ...]:
    """Every plan of ``env`` as ``make plan`` builds them (rules and budget applied)."""
    return tuple(plan_environment(REPO, env).documents())


@pytest.fixture(scope="module", params=["dev", "prod"])
def real(request: pytest.FixtureRequest) -> dict[str, Any]:
    return data_plan(request.param).document


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_make_plan_reports_zero_mandatory_findings(env: str) -> None:
    documents = environment_documents(env)
    assert [d["stack"] for d in documents if d["project"] != "trading-data"] == [
        f"{env}-us-east-1",
        f"{env}-us-east-2",
        *([env] if (REPO / "projects" / "edge" / "__main__.py").exists() else []),
    ]
    assert [(d["stack"], f) for d in documents for f in d["policy"] if f["severity"] == "mandatory"] == []


def _region_document(env: str, region: str) -> dict[str, Any]:
    [document] = [
        d
        for d in environment_documents(env)
        if d["project"] == "trading-region" and d["stack"] == f"{env}-{region}"
    ]
    return copy.deepcopy(document)


def _one(document: dict[str, Any], type_: str, role: str | None = None) -> dict[str, Any]:
    matches = [
        r
        for r in document["resources"]
        if r["type"] == type_ and (role is None or function_role(ResourceView.from_plan(r)) == role)
    ]
    assert len(matches) == 1, (type_, role, len(matches))
    return matches[0]


_FUNCTION = "aws:lambda/function:Function"
_STAGE = "aws:apigateway/stage:Stage"


def _api_timeout_30(d: dict[str, Any]) -> str:
    r = _one(d, _FUNCTION, "api")
    r["inputs"]["timeout"] = 30
    return r["urn"]


def _processor_timeout_60(d: dict[str, Any]) -> str:
    r = _one(d, _FUNCTION, "processor")
    r["inputs"]["timeout"] = 60
    return r["urn"]


def _processor_outside_vpc(d: dict[str, Any]) -> str:
    r = _one(d, _FUNCTION, "processor")
    del r["inputs"]["vpcConfig"]
    return r["urn"]


def _runtime_39(d: dict[str, Any]) -> str:
    r = _one(d, _FUNCTION, "api")
    r["inputs"]["runtime"] = "python3.9"
    return r["urn"]


def _no_access_logs(d: dict[str, Any]) -> str:
    r = _one(d, _STAGE)
    del r["inputs"]["accessLogSettings"]
    return r["urn"]


def _no_method_settings(d: dict[str, Any]) -> str:
    d["resources"] = [
        r for r in d["resources"] if r["type"] != "aws:apigateway/methodSettings:MethodSettings"
    ]
    return _one(d, _STAGE)["urn"]


def _data_star(d: dict[str, Any]) -> str:
    [r] = [
        x for x in d["resources"] if x["type"] == "aws:iam/rolePolicy:RolePolicy" and x["name"] == "api-data"
    ]
    policy = json.loads(r["inputs"]["policy"])
    policy["Statement"][0]["Resource"] = "*"
    r["inputs"]["policy"] = json.dumps(policy)
    return r["urn"]


def _no_tracing(d: dict[str, Any]) -> str:
    r = _one(d, _FUNCTION, "processor")
    r["inputs"]["tracingConfig"] = {"mode": "PassThrough"}
    return r["urn"]


def _mapping_without_filter(d: dict[str, Any]) -> str:
    r = _one(d, "aws:lambda/eventSourceMapping:EventSourceMapping")
    del r["inputs"]["filterCriteria"]
    return r["urn"]


def _edge_api(d: dict[str, Any]) -> str:
    r = _one(d, "aws:apigateway/restApi:RestApi")
    r["inputs"]["endpointConfiguration"] = {"types": "EDGE"}
    return r["urn"]


def _unscoped_permission(d: dict[str, Any]) -> str:
    r = next(x for x in d["resources"] if x["type"] == "aws:lambda/permission:Permission")
    del r["inputs"]["sourceArn"]
    return r["urn"]


@pytest.mark.parametrize(
    ("rule_id", "mutation"),
    [
        ("function-tracing-active", _no_tracing),
        ("stream-mapping-guards", _mapping_without_filter),
        ("api-regional-endpoint", _edge_api),
        ("invoke-permission-scoped", _unscoped_permission),
        ("function-timeout", _api_timeout_30),
        ("function-timeout", _processor_timeout_60),
        ("function-vpc-placement", _processor_outside_vpc),
        ("lambda-runtime-supported", _runtime_39),
        ("stage-access-logs", _no_access_logs),
        ("stage-throttling", _no_method_settings),
        ("no-wildcard-on-data", _data_star),
    ],
)
@pytest.mark.parametrize("region", ["us-east-1", "us-east-2"])
def test_real_region_plan_mutations_are_flagged(rule_id: str, mutation: Any, region: str) -> None:
    document = _region_document("dev", region)
    assert [f for f in evaluate(document) if f["rule"] == rule_id] == []
    urn = mutation(document)
    assert {f["urn"] for f in evaluate(document) if f["rule"] == rule_id} == {urn}


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


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_rules_on_the_plans_of_an_environment_take_well_under_a_second(env: str) -> None:
    documents = list(environment_documents(env))
    if not any(d["project"] == "trading-edge" for d in documents):
        documents.append(edge_document())  # until the edge program lands: its fixture stands in
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
        "worst-case RTO for writes is 1080 s, over rtoSeconds 600 s"
    ) in out
    assert out[-1] == "budget of dev: 2 finding(s), 1 mandatory"
