"""CODEOWNERS: each project folder has its own team; shared/ and policies/ the platform team."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def _owners() -> dict[str, list[str]]:
    rules: dict[str, list[str]] = {}
    for line in (REPO_ROOT / "CODEOWNERS").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            pattern, *teams = line.split()
            rules[pattern] = teams
    return rules


@pytest.mark.parametrize(
    ("pattern", "teams"),
    [
        ("/projects/data/", ["@trading-dr/data-team"]),
        ("/projects/region/", ["@trading-dr/region-team"]),
        ("/projects/edge/", ["@trading-dr/edge-team"]),
        ("/shared/", ["@trading-dr/platform-team"]),
        ("/policies/", ["@trading-dr/platform-team"]),
        ("*", ["@trading-dr/platform-team"]),
    ],
)
def test_owner_of_each_folder(pattern, teams):
    assert _owners()[pattern] == teams


def test_every_project_has_a_different_team():
    owners = _owners()
    project_teams = [tuple(owners[f"/projects/{p}/"]) for p in ("data", "region", "edge")]
    assert len(set(project_teams)) == 3


def _owner_of(path: str) -> list[str]:
    """GitHub semantics: the last matching pattern wins (patterns here are anchored paths)."""
    import fnmatch

    owner: list[str] = []
    for pattern, teams in _owners().items():
        if pattern == "*":
            owner = teams
        elif pattern.endswith("/"):
            if ("/" + path).startswith(pattern):
                owner = teams
        elif fnmatch.fnmatch("/" + path, pattern):
            owner = teams
    return owner


@pytest.mark.parametrize(
    ("path", "teams"),
    [
        ("projects/data/__main__.py", ["@trading-dr/data-team"]),
        ("projects/edge/functions/failover/handler.py", ["@trading-dr/edge-team"]),
        ("shared/settings/data.py", ["@trading-dr/data-team", "@trading-dr/platform-team"]),
        ("shared/settings/region.py", ["@trading-dr/region-team", "@trading-dr/platform-team"]),
        ("shared/settings/edge.py", ["@trading-dr/edge-team", "@trading-dr/platform-team"]),
        ("shared/settings/base.py", ["@trading-dr/platform-team"]),
        ("shared/contracts/edge.py", ["@trading-dr/edge-team", "@trading-dr/platform-team"]),
        ("tests/unit/test_data_tier.py", ["@trading-dr/data-team"]),
        ("tests/unit/test_region_program.py", ["@trading-dr/region-team"]),
        ("tests/unit/test_edge_stack.py", ["@trading-dr/edge-team"]),
        ("tests/handlers/test_api_orders.py", ["@trading-dr/region-team"]),
        ("tests/orchestrator/test_orchestrator.py", ["@trading-dr/edge-team"]),
        ("tests/unit/test_naming.py", ["@trading-dr/platform-team"]),
        ("Makefile", ["@trading-dr/platform-team"]),
    ],
)
def test_owner_of_a_file(path, teams):
    assert (REPO_ROOT / path).exists()
    assert _owner_of(path) == teams


def test_every_pattern_matches_something():
    """A renamed folder must not leave its owners pointing at nothing."""
    missing = [
        pattern for pattern in _owners() if pattern != "*" and not list(REPO_ROOT.glob(pattern.strip("/")))
    ]
    assert missing == []
