"""Runbooks and the architecture doc name only make targets and contract outputs that exist."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from shared.contracts import data, edge, region

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((REPO_ROOT / "docs").rglob("*.md"))
RUNBOOKS = [
    "planned-switchover",
    "unplanned-failover",
    "failback",
    "per-region-rollout",
    "config-while-failed-over",
]


def _make_targets() -> set[str]:
    proc = subprocess.run(
        ["make", "-p", "-q", "-o", "build", "-o", ".venv/.installed", "help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return {m.group(1) for m in re.finditer(r"^([a-z][a-z-]*):", proc.stdout, re.MULTILINE)}


def test_every_runbook_exists_and_uses_make_targets():
    for name in RUNBOOKS:
        text = (REPO_ROOT / "docs" / "runbooks" / f"{name}.md").read_text()
        assert "make " in text or "invoke" in text, name


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_make_targets_named_in_docs_exist(doc):
    targets = _make_targets()
    named = set(re.findall(r"`make ([a-z][a-z-]*)", doc.read_text()))
    assert named - targets == set()


def test_architecture_names_every_contract_output():
    text = (REPO_ROOT / "docs" / "architecture.md").read_text()
    keys = [*data.TOP_LEVEL_KEYS, *data.REGIONAL_KEYS, *region.REQUIRED_KEYS, *region.DOMAIN_KEYS]
    keys += [*edge.REQUIRED_KEYS, edge.DNS_NAME]
    assert [k for k in keys if k not in text] == []
