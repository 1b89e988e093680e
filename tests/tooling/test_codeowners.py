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
