"""S1 edge cases of the trading-data config found in review: each one line, key, value, allowed."""

from __future__ import annotations

import pytest

from shared.errors import ConfigError
from shared.plan.__main__ import main as plan_main
from shared.plan.stackfiles import load_stack_config
from shared.settings import DataSettings
from tests.planning import REPO

BASE = {
    "trading-data:environment": "dev",
    "trading-data:owner": "platform-sre",
    "trading-data:costCenter": "cc-1",
}

REJECTED = [
    # (key, value, exact message)
    # ``$`` matched before a trailing newline: these passed before.
    (
        "owner",
        "sre\n",
        "config trading-data:owner='sre\\n' is not allowed: "
        "1-256 characters of letters, digits, spaces and _.:/=+-@",
    ),
    (
        "costCenter",
        "cc-1\n",
        "config trading-data:costCenter='cc-1\\n' is not allowed: "
        "1-256 characters of letters, digits, spaces and _.:/=+-@",
    ),
    (
        "engineVersion",
        "16.6\n",
        "config trading-data:engineVersion='16.6\\n' is not allowed: "
        "Aurora PostgreSQL <major>.<minor> with major >= 15 (known up to 17; e.g. 16.6)",
    ),
    (
        "instanceClass",
        "db.r6g.large\n",
        "config trading-data:instanceClass='db.r6g.large\\n' is not "
        "allowed: not memory-optimised; memory-optimised db.r*/db.x* classes only (e.g. db.r6g.large)",
    ),
    (
        "environment",
        "dev\n",
        "config trading-data:environment='dev\\n' is not allowed: "
        "lower-case letter first, then 1-11 of [a-z0-9-] (^[a-z][a-z0-9-]{1,11}$)",
    ),
    # Inside trading-<env>-aurora-... these broke physical_name with a traceback after the keys
    # and networks were already registered.
    (
        "environment",
        "qa--1",
        "config trading-data:environment='qa--1' is not allowed: "
        "no '--' and no trailing '-' (RDS identifiers refuse '--')",
    ),
    (
        "environment",
        "qa-",
        "config trading-data:environment='qa-' is not allowed: "
        "no '--' and no trailing '-' (RDS identifiers refuse '--')",
    ),
    # AWS refuses these tag keys at deploy time.
    (
        "tags",
        '{"aws:team": "x"}',
        'config trading-data:tags=\'{"aws:team": "x"}\' is not allowed: '
        "tag key 'aws:team': 1-128 letters, digits, spaces and _.:/=+-@, not aws:*",
    ),
    (
        "tags",
        '{"AWS:team": "x"}',
        'config trading-data:tags=\'{"AWS:team": "x"}\' is not allowed: '
        "tag key 'AWS:team': 1-128 letters, digits, spaces and _.:/=+-@, not aws:*",
    ),
    (
        "tags",
        '{"": "x"}',
        'config trading-data:tags=\'{"": "x"}\' is not allowed: '
        "tag key '': 1-128 letters, digits, spaces and _.:/=+-@, not aws:*",
    ),
    ("tags", '{"' + "k" * 129 + '": "x"}', None),
    ("tags", '{"a,b": "x"}', None),
    # protectData guards deletion of production data: Pulumi's own true/false only.
    ("protectData", "yes", "config trading-data:protectData='yes' is not allowed: true or false"),
    ("protectData", "1", "config trading-data:protectData='1' is not allowed: true or false"),
    ("protectData", "True", "config trading-data:protectData='True' is not allowed: true or false"),
    ("protectData", "off", "config trading-data:protectData='off' is not allowed: true or false"),
    # Memory-optimised by pattern, but not offered by Aurora PostgreSQL: AWS refuses them at deploy.
    (
        "instanceClass",
        "db.r4.large",
        "config trading-data:instanceClass='db.r4.large' is not allowed: "
        "not an Aurora PostgreSQL class; families db.r5, db.r6g, db.r6gd, db.r6i, db.r6id, db.r7g, db.r7i, "
        "db.r8g, db.r8gd, db.x2g in sizes large..48xlarge",
    ),
    ("instanceClass", "db.x1e.xlarge", None),
    ("instanceClass", "db.r5b.large", None),
    ("instanceClass", "db.r6g.metal", None),
    # A major AWS has not released, or a number no release is written as.
    (
        "engineVersion",
        "61.6",
        "config trading-data:engineVersion='61.6' is not allowed: "
        "Aurora PostgreSQL <major>.<minor> with major >= 15 (known up to 17; e.g. 16.6)",
    ),
    ("engineVersion", "016.6", None),
    ("engineVersion", "16.06", None),
    # Whole numbers written as such, with the range in the message (not pydantic's wording).
    (
        "instancesPerRegion",
        "1.5",
        "config trading-data:instancesPerRegion='1.5' is not allowed: an integer from 1 to 15",
    ),
    (
        "instancesPerRegion",
        "true",
        "config trading-data:instancesPerRegion='true' is not allowed: an integer from 1 to 15",
    ),
    (
        "instancesPerRegion",
        "16",
        "config trading-data:instancesPerRegion='16' is not allowed: an integer from 1 to 15",
    ),
    ("rpoSeconds", "60.0", "config trading-data:rpoSeconds='60.0' is not allowed: a positive integer"),
    ("rtoSeconds", "1e3", "config trading-data:rtoSeconds='1e3' is not allowed: a positive integer"),
    ("rtoSeconds", "0", "config trading-data:rtoSeconds='0' is not allowed: a positive integer"),
]


@pytest.mark.parametrize(("key", "value", "message"), REJECTED)
def test_rejected_with_one_exact_line(key, value, message):
    with pytest.raises(ConfigError) as err:
        DataSettings.parse({**BASE, f"trading-data:{key}": value}, stack="dev")
    assert err.value.key == f"trading-data:{key}"
    assert err.value.value == value
    if message is not None:
        assert str(err.value) == message
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("key", "value", "attribute", "parsed"),
    [
        ("engineVersion", "17.4", "engine_version", "17.4"),
        ("engineVersion", "15.10", "engine_version", "15.10"),
        ("instanceClass", "db.r8g.48xlarge", "instance_class", "db.r8g.48xlarge"),
        ("instanceClass", "db.x2g.large", "instance_class", "db.x2g.large"),
        ("instanceClass", "db.r6gd.xlarge", "instance_class", "db.r6gd.xlarge"),
        ("protectData", "true", "protect_data", True),
        ("protectData", "false", "protect_data", False),
        ("instancesPerRegion", "15", "instances_per_region", 15),
        ("rtoSeconds", "1", "rto_seconds", 1),
        ("tags", '{"team:desk": "fx rates/2 @ny"}', "tags", {"team:desk": "fx rates/2 @ny"}),
        ("tags", '{"' + "k" * 128 + '": "x"}', "tags", {"k" * 128: "x"}),
    ],
)
def test_accepted_values(key, value, attribute, parsed):
    settings = DataSettings.parse({**BASE, f"trading-data:{key}": value}, stack="dev")
    assert getattr(settings, attribute) == parsed


def test_defaults_are_what_the_readme_says():
    s = DataSettings.parse(BASE, stack="dev")
    assert (s.primary_region, s.secondary_region) == ("us-east-1", "us-east-2")
    assert (s.engine_version, s.instance_class, s.instances_per_region) == ("16.6", "db.r6g.large", 1)
    assert (s.rto_seconds, s.rpo_seconds, s.tags, s.protect_data) == (900, 60, {}, None)
    assert s.protected is False
    prod = DataSettings.parse({**BASE, "trading-data:environment": "prod"}, stack="prod")
    assert prod.protected is True


def test_a_null_in_the_stack_file_is_a_config_error_not_the_text_none(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: trading-data\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  trading-data:owner: ~\n")
    with pytest.raises(ConfigError) as err:
        load_stack_config(tmp_path, "dev")
    assert str(err.value) == (
        "config trading-data:owner=<missing> is not allowed: a value; Pulumi.dev.yaml sets it to null"
    )


def test_a_double_hyphen_environment_stops_before_any_resource(tmp_path, capsys):
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(
        REPO / "projects" / "data", repo / "projects" / "data", ignore=shutil.ignore_patterns("__pycache__")
    )
    text = (repo / "projects/data/Pulumi.dev.yaml").read_text()
    (repo / "projects/data/Pulumi.qa--1.yaml").write_text(
        text.replace("environment: dev", "environment: qa--1")
    )
    assert plan_main(["--env", "qa--1", "--repo", str(repo)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "error: config trading-data:environment='qa--1' is not allowed: "
        "no '--' and no trailing '-' (RDS identifiers refuse '--')\n"
    )
    assert not (repo / "build").exists()


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ("dev\n", "error: ENV='dev\\n' is not an environment name (^[a-z][a-z0-9-]{1,11}$)"),
        ("staging", "error: ENV='staging' has no stack file projects/data/Pulumi.staging.yaml"),
        ("", "error: ENV='' is not an environment name (^[a-z][a-z0-9-]{1,11}$)"),
    ],
)
def test_plan_cli_bad_env_is_one_line(tmp_path, capsys, env, line):
    assert plan_main(["--env", env, "--repo", str(REPO), "--out", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", line + "\n")
    assert list(tmp_path.iterdir()) == []


def test_a_program_that_crashes_is_exit_3_not_the_policy_exit_1(tmp_path, capsys):
    data = tmp_path / "projects" / "data"
    data.mkdir(parents=True)
    (data / "Pulumi.yaml").write_text("name: trading-data\n")
    (data / "Pulumi.dev.yaml").write_text("config:\n  trading-data:environment: dev\n")
    (data / "__main__.py").write_text("raise IndexError('list index out of range')\n")
    assert plan_main(["--env", "dev", "--repo", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == "error: planning ENV='dev' failed: IndexError: list index out of range"
    assert not (tmp_path / "build").exists()
