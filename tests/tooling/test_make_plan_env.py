"""``make plan ENV=<bad>``: the plan CLI's own one-line error naming ENV, exit status 2.

ENV reaches ``python -m shared.plan`` as one quoted word, so an empty or spaced value is judged
by the CLI (which names ENV and what is allowed) instead of argparse ("expected one argument").
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make")
NAME_RULE = "(^[a-z][a-z0-9-]{1,11}$)"

pytestmark = pytest.mark.skipif(MAKE is None, reason="make is required by SPEC M1")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", f"error: ENV='' is not an environment name {NAME_RULE}"),
        ("a b", f"error: ENV='a b' is not an environment name {NAME_RULE}"),
        ("dev prod", f"error: ENV='dev prod' is not an environment name {NAME_RULE}"),
        ("Prod!", f"error: ENV='Prod!' is not an environment name {NAME_RULE}"),
        ("staging", "error: ENV='staging' has no stack file projects/data/Pulumi.staging.yaml"),
    ],
    ids=["empty", "space", "two-envs", "bad-name", "no-stack-file"],
)
def test_make_plan_with_a_bad_env_is_the_clis_one_line_and_exit_2(value: str, message: str, tmp_path: Path):
    proc = subprocess.run(
        [str(MAKE), "--no-print-directory", "-s", "-o", ".venv/.installed", "plan", f"ENV={value}"],
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert proc.returncode == 2
    first, *rest = proc.stderr.splitlines()
    assert first == message
    # make's own line: the recipe (the plan CLI) itself exited 2, nothing else was printed.
    assert len(rest) == 1 and re.fullmatch(r"make: \*\*\* \[Makefile:\d+: plan\] Error 2", rest[0]), rest
    assert proc.stdout == ""
