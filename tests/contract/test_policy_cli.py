"""`make policy PLAN=<file>` on files that are not plan files: one line, exit 2, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.policy.__main__ import main
from tests.planning import REPO, data_plan

GOOD_RESOURCE = {
    "urn": "urn:pulumi:dev::trading-data::aws:kms/key:Key::k",
    "type": "aws:kms/key:Key",
    "name": "k",
    "region": "us-east-1",
    "provider": "",
    "parent": "",
    "dependencies": [],
    "protect": False,
    "retainOnDelete": False,
    "ignoreChanges": [],
    "inputs": {},
}
GOOD = {"project": "trading-data", "stack": "dev", "config": {}, "outputs": {}, "resources": [], "policy": []}


def _with(**changes):
    return json.dumps({**GOOD, **changes})


def _resource(**changes):
    return _with(resources=[{**GOOD_RESOURCE, **changes}])


def _without_resource_field(field):
    resource = dict(GOOD_RESOURCE)
    del resource[field]
    return _with(resources=[resource])


BAD_FILES = [
    # (file content or None for "a directory", fragment of the one error line)
    ("nope", "not JSON (Expecting value"),
    (b"\xff\xfe", "not JSON ('utf-8' codec"),
    ("[]", "top level: a JSON object is required, got list"),
    (json.dumps({"resources": []}), "project: required"),
    (_with(resources=5), "resources: list required, got int"),
    (_with(config=[]), "config: dict required, got list"),
    (_with(config={"trading-data:instancesPerRegion": 2}), "config.trading-data:instancesPerRegion: string"),
    (_with(resources=[5]), "resources[0]: object required, got int"),
    (_without_resource_field("urn"), "resources[0].urn: required"),
    (_resource(protect="yes"), "resources[0].protect: bool required, got str"),
    (_resource(inputs=None), "resources[0].inputs: dict required, got null"),
    (_resource(dependencies=[1]), "resources[0].dependencies: a list of strings required"),
    (_with(policy={}), "policy: list required, got dict"),
    (None, "cannot be read"),
]


@pytest.mark.parametrize(("content", "fragment"), BAD_FILES)
def test_a_file_that_is_not_a_plan_file_is_one_line_and_exit_2(tmp_path: Path, capsys, content, fragment):
    path = tmp_path / "plan.json"
    if content is None:
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    assert main([str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: PLAN={path}: ")
    assert fragment in lines[0]


def test_a_missing_file_says_to_run_make_plan(tmp_path: Path, capsys):
    path = tmp_path / "absent.json"
    assert main([str(path)]) == 2
    assert capsys.readouterr().err == f"error: PLAN={path}: no such file (run `make plan` first)\n"


def test_a_real_plan_file_passes_the_shape_check(tmp_path: Path, capsys):
    path = tmp_path / "trading-data.dev.json"
    path.write_text(json.dumps(data_plan("dev").document))
    assert main([str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{path}: 0 finding(s), 0 mandatory"
    # The budget of a data plan alone judges only S3 (RTC's 15 min), advisory against rpoSeconds.
    assert lines[-1] == "budget of dev: 1 finding(s), 0 mandatory"


def test_through_make_no_traceback(tmp_path: Path):
    path = tmp_path / "wrong.json"
    path.write_text(_with(resources=[{"type": "x"}]))
    proc = subprocess.run(
        ["make", "--no-print-directory", "-s", "policy", f"PLAN={path}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHON": sys.executable},
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert f"error: PLAN={path}: not a plan file (SPEC §4): resources[0].urn: required" in proc.stderr
