"""S1: bad data config stops the program before any resource, with one line naming the key."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from shared.errors import ConfigError
from shared.settings import DataSettings
from tests.planning import REPO, plan

BASE = {
    "trading-data:environment": "dev",
    "trading-data:owner": "platform-sre",
    "trading-data:costCenter": "cc-1",
}

BAD_CONFIG = [
    # (overrides, key named in the error, fragment of what is allowed)
    (
        {"trading-data:secondaryRegion": "us-east-1"},
        "trading-data:secondaryRegion",
        "a region other than primaryRegion (us-east-1)",
    ),
    ({"trading-data:primaryRegion": "us-east-9"}, "trading-data:primaryRegion", "one of ap-northeast-1"),
    ({"trading-data:secondaryRegion": "moon-1"}, "trading-data:secondaryRegion", "us-west-2"),
    ({"trading-data:environment": "Dev"}, "trading-data:environment", "^[a-z][a-z0-9-]{1,11}$"),
    (
        {"trading-data:environment": "averyveryverylongname"},
        "trading-data:environment",
        "^[a-z][a-z0-9-]{1,11}$",
    ),
    (
        {"trading-data:environment": "prod"},
        "trading-data:environment",
        "must match the stack: stack 'dev' expects 'prod'",
    ),
    ({"trading-data:engineVersion": "14.9"}, "trading-data:engineVersion", "major >= 15"),
    ({"trading-data:engineVersion": "sixteen"}, "trading-data:engineVersion", "major >= 15"),
    ({"trading-data:instanceClass": "db.t4g.medium"}, "trading-data:instanceClass", "burstable"),
    ({"trading-data:instanceClass": "db.m6g.large"}, "trading-data:instanceClass", "not memory-optimised"),
    ({"trading-data:instancesPerRegion": "0"}, "trading-data:instancesPerRegion", "1 to 15"),
    ({"trading-data:instancesPerRegion": "two"}, "trading-data:instancesPerRegion", "from 1 to 15"),
    ({"trading-data:rtoSeconds": "-5"}, "trading-data:rtoSeconds", "a positive integer"),
    ({"trading-data:protectData": "maybe"}, "trading-data:protectData", "true or false"),
    ({"trading-data:tags": '{"Owner": "x"}'}, "trading-data:tags", "Owner are set by the product"),
    ({"trading-data:tags": "[1, 2]"}, "trading-data:tags", "a JSON object of string tags"),
    ({"trading-data:primaryRegoin": "us-east-1"}, "trading-data:primaryRegoin", "unknown key"),
    ({"trading-data:owner": None}, "trading-data:owner", "required"),
]


@pytest.mark.parametrize(("overrides", "key", "allowed"), BAD_CONFIG)
def test_bad_config_names_key_and_allowed_values(overrides, key, allowed):
    raw = {**BASE, **overrides}
    raw = {k: v for k, v in raw.items() if v is not None}
    with pytest.raises(ConfigError) as err:
        DataSettings.parse(raw, stack="dev")
    message = str(err.value)
    assert err.value.key == key
    assert message.startswith(f"config {key}=")
    assert allowed in message
    assert "\n" not in message


@pytest.mark.parametrize(("overrides", "key", "allowed"), BAD_CONFIG[:9])
def test_bad_config_stops_program_before_any_resource(overrides, key, allowed):
    from shared.plan import runner

    captured = {}
    original = runner.RecordingMonitor

    class Spy(original):  # type: ignore[misc, valid-type]
        def __init__(self, mocks):
            super().__init__(mocks)
            captured["monitor"] = self

    runner.RecordingMonitor = Spy
    try:
        with pytest.raises(ConfigError) as err:
            plan("data", "dev", overrides)
    finally:
        runner.RecordingMonitor = original
    assert err.value.key == key
    assert captured["monitor"].registrations == []


def test_defaults_and_protection():
    settings = DataSettings.parse(BASE, stack="dev")
    assert settings.regions == ("us-east-1", "us-east-2")
    assert settings.engine_version.split(".")[0] >= "16"
    assert settings.protected is False
    prod = DataSettings.parse({**BASE, "trading-data:environment": "prod"}, stack="prod")
    assert prod.protected is True
    with pytest.raises(ValidationError):  # frozen
        settings.environment = "x"  # type: ignore[misc]


def test_committed_stack_files_hold_every_data_key():
    keys = {
        "environment",
        "primaryRegion",
        "secondaryRegion",
        "engineVersion",
        "instanceClass",
        "instancesPerRegion",
        "protectData",
        "rtoSeconds",
        "rpoSeconds",
        "owner",
        "costCenter",
        "tags",
    }
    for env, protect in (("dev", False), ("prod", True)):
        doc = yaml.safe_load((REPO / "projects/data" / f"Pulumi.{env}.yaml").read_text())
        config = doc["config"]
        assert {k.split(":", 1)[1] for k in config if k.startswith("trading-data:")} == keys
        assert config["trading-data:environment"] == env
        assert config["trading-data:protectData"] is protect
        assert config["pulumi:disable-default-providers"] == ["aws"]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("trading-data:secondaryRegion", "us-east-1", "secondaryRegion"),
        ("trading-data:instanceClass", "db.t3.medium", "burstable"),
        ("trading-data:bogus", "1", "unknown key"),
    ],
)
def test_plan_cli_config_error_is_one_line_without_traceback(tmp_path: Path, key, value, expected):
    repo = tmp_path / "repo"
    shutil.copytree(
        REPO / "projects" / "data", repo / "projects" / "data", ignore=shutil.ignore_patterns("__pycache__")
    )
    stack_file = repo / "projects/data/Pulumi.dev.yaml"
    doc = yaml.safe_load(stack_file.read_text())
    doc["config"][key] = value
    stack_file.write_text(yaml.safe_dump(doc))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "shared.plan", "--env", "dev", "--repo", str(repo)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    err_lines = proc.stderr.strip().splitlines()
    assert len(err_lines) == 1, proc.stderr
    assert key in err_lines[0] and expected in err_lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (repo / "build" / "plan" / "trading-data.dev.json").exists()
