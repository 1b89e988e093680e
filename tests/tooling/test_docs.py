"""Runbooks and the architecture doc name only make targets and contract outputs that exist."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from shared.contracts import data, edge, region

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((REPO_ROOT / "docs").rglob("*.md"))


def _make_targets() -> set[str]:
    proc = subprocess.run(
        ["make", "-p", "-q", "-o", "build", "-o", ".venv/.installed", "help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return {m.group(1) for m in re.finditer(r"^([a-z][a-z-]*):", proc.stdout, re.MULTILINE)}


@pytest.mark.parametrize(
    ("name", "ties"),
    [
        ("planned-switchover", ['"action": "switchover"', "make preview-region"]),
        ("unplanned-failover", ['"action": "failover"', "make drill", "primaryDownAlarmArn"]),
        ("failback", ['"action": "failback"', "make deploy-region"]),
        (
            "per-region-rollout",
            ["make deploy-region ENV=prod REGION=us-east-1", "make deploy-edge", "make destroy-all"],
        ),
        ("config-while-failed-over", ["make deploy-data", "globalClusterIdentifier"]),
    ],
)
def test_each_runbook_is_tied_to_make_targets_and_event_formats(name, ties):
    text = (REPO_ROOT / "docs" / "runbooks" / f"{name}.md").read_text()
    assert [t for t in ties if t not in text] == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_make_targets_named_in_docs_exist(doc):
    targets = _make_targets()
    named = set(re.findall(r"`make ([a-z][a-z-]*)", doc.read_text()))
    assert named - targets == set()


def test_architecture_names_every_output_constant_of_the_contracts():
    """Every output name the contract modules declare, not only the SPEC's required ones."""
    text = (REPO_ROOT / "docs" / "architecture.md").read_text()
    names = [
        value
        for module in (data, region, edge)
        for key, value in vars(module).items()
        if key.isupper() and isinstance(value, str) and re.fullmatch(r"[a-z][A-Za-z]*", value)
    ]
    assert len(names) >= 40
    assert [n for n in names if n not in text] == []


def test_architecture_names_every_contract_output():
    text = (REPO_ROOT / "docs" / "architecture.md").read_text()
    keys = [*data.TOP_LEVEL_KEYS, *data.REGIONAL_KEYS, *region.REQUIRED_KEYS, *region.DOMAIN_KEYS]
    keys += [*edge.REQUIRED_KEYS, edge.DNS_NAME]
    assert [k for k in keys if k not in text] == []


def _manual_events() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for match in re.finditer(r"`(\{\"action\"[^`]*\})`|'(\{\"action\"[^']*\})'", doc.read_text()):
            found.append((doc.name, match.group(1) or match.group(2)))
    return found


def test_runbooks_show_the_three_manual_actions():
    actions = {json.loads(event)["action"] for _, event in _manual_events()}
    assert actions == {"switchover", "failover", "failback"}


@pytest.mark.parametrize(("doc", "event"), _manual_events())
def test_every_manual_event_in_the_runbooks_is_accepted_by_the_orchestrator(doc, event):
    sys.path.insert(0, str(REPO_ROOT / "projects" / "region" / "functions" / "common"))
    sys.path.insert(0, str(REPO_ROOT / "projects" / "edge" / "functions" / "failover"))
    from failover_orchestrator.events import Request, parse_event

    request = parse_event(json.loads(event))
    assert isinstance(request, Request)
    assert request.source == "manual"


def _orchestrator():
    sys.path.insert(0, str(REPO_ROOT / "projects" / "region" / "functions" / "common"))
    sys.path.insert(0, str(REPO_ROOT / "projects" / "edge" / "functions" / "failover"))
    from failover_orchestrator import logic

    return logic


def test_the_documented_answer_is_the_orchestrators_report():
    logic = _orchestrator()
    text = (REPO_ROOT / "docs" / "runbooks" / "README.md").read_text()
    block = re.search(r"```json\n(\{\"outcome\".*?)\n```", text, re.DOTALL)
    assert block is not None
    answer = json.loads(block.group(1))
    assert list(answer) == list(logic.Outcome("completed").to_json())
    outcomes = {getattr(logic, name) for name in dir(logic) if name.startswith("OUTCOME_")}
    assert set(answer["outcome"].split(" | ")) == outcomes
    source = (REPO_ROOT / "projects/edge/functions/failover/failover_orchestrator/logic.py").read_text()
    steps = set(re.findall(r'step\("([0-9]-[a-z-]+)"\)', source))
    assert {s["step"] for s in answer["steps"] if isinstance(s, dict)} <= steps


def _edge_timeouts() -> list[int]:
    import yaml

    found = []
    for path in (REPO_ROOT / "projects" / "edge").glob("Pulumi.*.yaml"):
        config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
        if "trading-edge:orchestratorTimeoutSeconds" in config:
            found.append(int(config["trading-edge:orchestratorTimeoutSeconds"]))
    return found


def test_a_manual_invoke_outwaits_the_orchestrator_and_is_not_retried():
    """The CLI retries an Invoke that times out: the second run would answer 'locked'."""
    text = (REPO_ROOT / "docs" / "runbooks" / "README.md").read_text()
    invokes = re.findall(r"^(.*)aws lambda invoke ((?:[^\n]*\\\n)*[^\n]*)", text, re.MULTILINE)
    assert invokes
    for prefix, command in invokes:
        assert "AWS_MAX_ATTEMPTS=1" in prefix
        timeout = int(re.search(r"--cli-read-timeout (\d+)", command).group(1))
        assert timeout > max(_edge_timeouts(), default=600)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_bare_pulumi_commands_say_which_backend(doc):
    """make defaults PULUMI_BACKEND_URL to .pulumi-state; a bare pulumi command does not."""
    text = doc.read_text()
    if re.search(r"\bpulumi --cwd ", text):
        assert "PULUMI_BACKEND_URL" in text


def _readme_section(title: str) -> str:
    text = (REPO_ROOT / "README.md").read_text()
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", text, re.DOTALL | re.MULTILINE)
    assert match is not None
    return match.group(1)


def test_quick_start_names_what_make_test_needs():
    makefile = (REPO_ROOT / "Makefile").read_text()
    recipe = re.search(r"^test:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE).group(1)
    quick = _readme_section("Quick start")
    assert ("node " in recipe) == ("Node.js ≥ 20" in quick)
    assert [t for t in ("make test", "make plan", "make drill", "make help") if t not in quick] == []
