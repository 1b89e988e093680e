"""The pulumi-policy pack runs the shared rule objects (SPEC S5), tested without its gRPC server."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pulumi_policy
import pytest
import yaml
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from shared.policy.pack import PACK_NAME, build_policies
from shared.policy.rules import (
    RULES,
    ResourceRule,
    StackRule,
    evaluate,
    rules_expressible_in_pack,
    stack_rules_expressible_in_pack,
)
from tests.planning import data_plan
from tests.policy.fixtures import PRIMARY, function, res
from tests.policy.test_rules import CASES

REPO = Path(__file__).resolve().parents[2]
PACK_DIR = REPO / "policies"
EXPRESSIBLE = {r.id for r in RULES if r.expressible_in_pack}


def _options(r: dict[str, Any]) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        r.get("protect", False),
        list(r.get("ignoreChanges", [])),
        None,
        [],
        PolicyCustomTimeouts(0, 0, 0),
        [],
        None,
    )


def _provider(r: dict[str, Any]) -> PolicyProviderResource | None:
    if not r.get("region"):
        return None
    return PolicyProviderResource(
        "pulumi:providers:aws", unknown_checking_proxy({"region": r["region"]}), r["provider"], "aws"
    )


def resource_args(r: dict[str, Any]) -> ResourceValidationArgs:
    """What the engine hands a resource policy for this plan-file resource."""
    # The pack reads the region from the provider, like the engine would show it.
    return ResourceValidationArgs(
        r["type"], unknown_checking_proxy(dict(r["inputs"])), r["urn"], r["name"], _options(r), _provider(r)
    )


def stack_args(document: dict[str, Any]) -> StackValidationArgs:
    resources = {
        r["urn"]: PolicyResource(
            r["type"],
            unknown_checking_proxy(dict(r["inputs"])),
            r["urn"],
            r["name"],
            _options(r),
            _provider(r),
            None,
            [],
            {},
        )
        for r in document["resources"]
    }
    for r in document["resources"]:
        resources[r["urn"]].dependencies = [resources[d] for d in r["dependencies"] if d in resources]
    return StackValidationArgs(list(resources.values()))


def run_pack(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(policy, urn, message) of every violation the pack's policies report on ``document``."""
    reported: list[tuple[str, str, str]] = []
    for policy in build_policies():
        if isinstance(policy, ResourceValidationPolicy):
            for r in document["resources"]:
                policy.validate(
                    resource_args(r),
                    lambda message, urn=None, r=r, p=policy: reported.append((p.name, r["urn"], message)),
                )
        else:
            assert isinstance(policy, StackValidationPolicy)
            policy.validate(
                stack_args(document),
                lambda message, urn=None, p=policy: reported.append((p.name, urn or "", message)),
            )
    return reported


def test_pack_main_registers_exactly_the_expressible_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[dict[str, Any]] = []

    def fake_pack(**kwargs: Any) -> None:  # the real PolicyPack starts a gRPC server and blocks
        created.append(kwargs)

    monkeypatch.setattr(pulumi_policy, "PolicyPack", fake_pack)
    runpy.run_path(str(PACK_DIR / "__main__.py"), run_name="__main__")

    assert len(created) == 1
    pack = created[0]
    assert pack["name"] == PACK_NAME == "trading-dr"
    names = [p.name for p in pack["policies"]]
    assert sorted(names) == sorted(EXPRESSIBLE)
    assert len(names) == len(set(names))
    kinds = {p.name: type(p) for p in pack["policies"]}
    assert {n for n, k in kinds.items() if k is ResourceValidationPolicy} == {
        r.id for r in rules_expressible_in_pack()
    }
    assert {n for n, k in kinds.items() if k is StackValidationPolicy} == {
        r.id for r in stack_rules_expressible_in_pack()
    }
    by_id = {r.id: r for r in RULES}
    for p in pack["policies"]:
        assert p.description == by_id[p.name].description
        expected = (
            EnforcementLevel.MANDATORY if by_id[p.name].severity == "mandatory" else EnforcementLevel.ADVISORY
        )
        assert p.enforcement_level == expected


def test_offline_only_rules_are_the_ones_needing_config_outputs_or_retain_on_delete() -> None:
    offline = {r.id for r in RULES if not r.expressible_in_pack}
    assert all(isinstance(r, StackRule) for r in RULES if r.id in offline)
    assert {"no-default-provider", "protect-stateful-in-prod", "cross-region-subscription"} <= offline
    assert all(isinstance(r, ResourceRule) or r.id in offline or r.expressible_in_pack for r in RULES)


def test_policy_pack_yaml_runs_in_the_repository_virtualenv() -> None:
    spec = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert spec["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "../.venv"}}
    assert (PACK_DIR / spec["runtime"]["options"]["virtualenv"]).resolve() == (REPO / ".venv").resolve()


_PACK_BLIND = "is a plain value, not a secret"  # the pack sees secrets unwrapped (see shared.policy.pack)

PACK_CASES = [c for c in CASES if c[0] in EXPRESSIBLE]


@pytest.mark.parametrize(
    ("rule_id", "case", "good", "bad", "expected"), PACK_CASES, ids=[f"{c[0]}:{c[1]}" for c in PACK_CASES]
)
def test_pack_reports_what_the_offline_rule_reports(
    rule_id: str, case: str, good: dict[str, Any], bad: dict[str, Any], expected: list[str]
) -> None:
    def offline(document: dict[str, Any]) -> list[tuple[str, str, str]]:
        return sorted(
            (f["rule"], f["urn"], f["message"])
            for f in evaluate(document)
            if f["rule"] in EXPRESSIBLE and not f["message"].endswith(_PACK_BLIND)
        )

    assert sorted(run_pack(bad)) == offline(bad)
    assert [m for p, _, m in run_pack(bad) if p == rule_id] == [
        m for m in expected if not m.endswith(_PACK_BLIND)
    ]
    assert [v for v in run_pack(good) if v[0] == rule_id] == []


def test_pack_on_the_real_dev_data_plan_matches_offline() -> None:
    document = data_plan("dev").document
    offline = sorted(
        (f["rule"], f["urn"], f["message"]) for f in evaluate(document) if f["rule"] in EXPRESSIBLE
    )
    assert sorted(run_pack(document)) == offline == []


def test_pack_region_comes_from_the_provider() -> None:
    # An API function outside the VPC: the pack sees it through the provider like offline.
    bad = function("api", timeout=29, vpc=False)
    [policy] = [p for p in build_policies() if p.name == "function-vpc-placement"]
    reported: list[str] = []
    policy.validate(resource_args(bad), lambda message, urn=None: reported.append(message))
    assert reported == [
        "api function needs the database but has no vpcConfig with subnets and security groups"
    ]


def test_unknown_value_during_preview_is_not_a_violation() -> None:
    # A key ARN not yet known at preview: the rule cannot judge it, so pulumi-policy's
    # UnknownValueError propagates (the engine reports "can't run during preview", advisory).
    topic = res(
        "aws:sns/topic:Topic", "events", {"name": "t", "kmsMasterKeyId": UNKNOWN_STRING_VALUE}, PRIMARY
    )
    [policy] = [p for p in build_policies() if p.name == "cmk-encryption-sns"]
    reported: list[str] = []
    with pytest.raises(UnknownValueError) as err:
        policy.validate(resource_args(topic), lambda message, urn=None: reported.append(message))
    assert err.value.props == ["kmsMasterKeyId"]
    assert reported == []


def test_readme_lists_every_rule_with_its_severity_and_where_it_runs() -> None:
    from shared.policy.budget import BUDGET_RULES

    readme = (REPO / "README.md").read_text()
    section = readme.split("## Policy rules\n", 1)[1].split("\n## ", 1)[0]
    rows = {
        cells[0].strip("`"): (cells[2], cells[3])
        for line in section.splitlines()
        if line.startswith("| `")
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    expected = {
        r.id: (
            r.severity,
            ("both (resource policy)" if isinstance(r, ResourceRule) else "both (stack validation)")
            if r.expressible_in_pack
            else "offline plan",
        )
        for r in RULES
    }
    expected |= {k: (sev, "offline plan (whole environment)") for k, (sev, _) in BUDGET_RULES.items()}
    assert rows == expected


def _analyzer() -> Any:
    """pulumi-policy's own analyzer service object, called in-process (no gRPC server)."""
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    return _PolicyAnalyzerServicer(
        PACK_NAME,
        "0.1.0",
        build_policies(),
        EnforcementLevel.MANDATORY,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
    )


def _analyze_request(r: dict[str, Any]) -> Any:
    from google.protobuf import struct_pb2
    from pulumi.runtime import proto

    properties = struct_pb2.Struct()
    properties.update(r["inputs"])
    provider_props = struct_pb2.Struct()
    provider_props.update({"region": r["region"]})
    return proto.AnalyzeRequest(
        type=r["type"],
        properties=properties,
        urn=r["urn"],
        name=r["name"],
        options=proto.AnalyzerResourceOptions(protect=False),
        provider=proto.AnalyzerProviderResource(
            type="pulumi:providers:aws", properties=provider_props, urn=r["provider"], name="aws"
        ),
    )


def test_engine_request_through_pulumi_policys_analyzer_reports_the_offline_violation() -> None:
    from pulumi.runtime import proto

    bad = function("api", timeout=29, vpc=False)
    response = _analyzer().Analyze(_analyze_request(bad), None)
    offline = [f["message"] for f in evaluate({"resources": [bad]}) if f["rule"] in EXPRESSIBLE]
    assert offline == [
        "api function needs the database but has no vpcConfig with subnets and security groups"
    ]
    assert [(d.policyName, d.message, d.enforcementLevel) for d in response.diagnostics] == [
        (
            "function-vpc-placement",
            "api and processor run in the VPC (they reach the database); the orchestrator runs outside it\n"
            + offline[0],
            proto.MANDATORY,
        )
    ]


def test_engine_request_with_an_unknown_value_is_an_advisory_cannot_run() -> None:
    from pulumi.runtime import proto

    topic = res(
        "aws:sns/topic:Topic", "events", {"name": "t", "kmsMasterKeyId": UNKNOWN_STRING_VALUE}, PRIMARY
    )
    response = _analyzer().Analyze(_analyze_request(topic), None)
    assert [(d.policyName, d.enforcementLevel) for d in response.diagnostics] == [
        ("cmk-encryption-sns", proto.ADVISORY)
    ]
    assert response.diagnostics[0].message.endswith(
        "during preview: string value at .kmsMasterKeyId can't be known during preview"
    )
