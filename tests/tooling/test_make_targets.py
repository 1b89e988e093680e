"""The deploy make targets (SPEC M2, §4), run for real with a fake ``pulumi`` on PATH.

The fake records each call's argv (one line per call) and the backend it was given, so the tests
assert the exact command lines, their order, and the refusals. ``make -o build -o <stamp>``
keeps make from rebuilding the function archives and the virtualenv (no network, fast); that
``build`` is a prerequisite of deploy-region/deploy-all is asserted from make's database.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make")
STAMP = ".venv/.installed"
PASSPHRASE = "drill-passphrase"

FAKE_PULUMI = textwrap.dedent(
    """\
    #!/bin/sh
    echo "$*" >> "$FAKE_PULUMI_LOG"
    echo "$PULUMI_BACKEND_URL" >> "$FAKE_PULUMI_LOG.backend"
    if [ -n "$FAKE_PULUMI_FAIL" ] && [ "$*" = "$FAKE_PULUMI_FAIL" ]; then exit 7; fi
    exit 0
    """
)

pytestmark = pytest.mark.skipif(MAKE is None, reason="make is required by SPEC M1")


class Run:
    def __init__(self, proc: subprocess.CompletedProcess[str], log: Path) -> None:
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.calls = log.read_text().splitlines() if log.exists() else []
        backend = Path(f"{log}.backend")
        self.backends = backend.read_text().splitlines() if backend.exists() else []


@pytest.fixture
def make(tmp_path: Path):
    """Run ``make <target> VAR=value…`` in the repository with a fake pulumi on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "pulumi"
    fake.write_text(FAKE_PULUMI)
    fake.chmod(0o755)
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    log = tmp_path / "pulumi.log"

    def run(*args: str, cli: bool = True, **env_overrides: str | None) -> Run:
        env = {
            "PATH": str(bin_dir if cli else empty_dir),
            "HOME": str(tmp_path),
            "FAKE_PULUMI_LOG": str(log),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_BACKEND_URL": f"file://{tmp_path}/state",
        }
        for key, value in env_overrides.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        proc = subprocess.run(
            [str(MAKE), "--no-print-directory", "-s", "-o", "build", "-o", STAMP, *args],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return Run(proc, log)

    return run


def _select(project: str, stack: str) -> str:
    return f"--cwd projects/{project} stack select --create {stack}"


def _verb(project: str, stack: str, verb: str) -> str:
    return f"--cwd projects/{project} --stack {stack} --non-interactive {verb}"


def _pair(project: str, stack: str, verb: str) -> list[str]:
    return [_select(project, stack), _verb(project, stack, verb)]


@pytest.mark.parametrize(
    ("target", "variables", "expected"),
    [
        ("deploy-data", ["ENV=dev"], _pair("data", "dev", "up --yes")),
        ("preview-data", ["ENV=prod"], _pair("data", "prod", "preview")),
        ("destroy-data", ["ENV=dev"], _pair("data", "dev", "destroy --yes")),
        ("deploy-region", ["ENV=dev", "REGION=us-east-1"], _pair("region", "dev-us-east-1", "up --yes")),
        ("preview-region", ["ENV=prod", "REGION=us-east-2"], _pair("region", "prod-us-east-2", "preview")),
        (
            "destroy-region",
            ["ENV=dev", "REGION=us-east-2"],
            _pair("region", "dev-us-east-2", "destroy --yes"),
        ),
        ("deploy-edge", ["ENV=dev"], _pair("edge", "dev", "up --yes")),
        ("preview-edge", ["ENV=dev"], _pair("edge", "dev", "preview")),
        ("destroy-edge", ["ENV=prod"], _pair("edge", "prod", "destroy --yes")),
        ("deploy-data", [], _pair("data", "dev", "up --yes")),  # ENV defaults to dev
        ("preview-data", ["PULUMI_ARGS=--diff"], _pair("data", "dev", "preview --diff")),  # README
        (
            "deploy-data",
            ["ENV=dev", "PULUMI_ARGS=--diff --refresh"],
            _pair("data", "dev", "up --yes --diff --refresh"),
        ),
    ],
)
def test_single_stack_targets_call_the_cli_exactly(make, target, variables, expected):
    result = make(target, *variables)
    assert result.returncode == 0, result.stderr
    assert result.calls == expected
    assert result.stderr == ""


def test_deploy_all_runs_data_then_primary_then_secondary_then_edge(make):
    result = make("deploy-all", "ENV=dev")
    assert result.returncode == 0, result.stderr
    assert result.calls == [
        *_pair("data", "dev", "up --yes"),
        *_pair("region", "dev-us-east-1", "up --yes"),
        *_pair("region", "dev-us-east-2", "up --yes"),
        *_pair("edge", "dev", "up --yes"),
    ]


def test_destroy_all_runs_in_reverse(make):
    result = make("destroy-all", "ENV=dev")
    assert result.returncode == 0, result.stderr
    assert result.calls == [
        *_pair("edge", "dev", "destroy --yes"),
        *_pair("region", "dev-us-east-2", "destroy --yes"),
        *_pair("region", "dev-us-east-1", "destroy --yes"),
        *_pair("data", "dev", "destroy --yes"),
    ]


def test_destroy_all_refuses_a_protected_environment_before_destroying_anything(make):
    """prod's data is protected: destroy-all would take down edge and regions, then stop at data."""
    result = make("destroy-all", "ENV=prod")
    assert result.returncode != 0
    assert result.calls == []
    assert result.stderr.splitlines()[0] == (
        "deploy: ENV=prod protects its data (trading-data:protectData): destroy-all would remove "
        "edge and both regions and then stop at the protected data stack; unprotect first "
        "(docs/runbooks/per-region-rollout.md#tearing-down-a-protected-environment) or destroy "
        "the stacks one by one"
    )


def test_destroy_data_of_a_protected_environment_runs_and_says_pulumi_will_refuse(make):
    result = make("destroy-data", "ENV=prod")
    assert result.returncode == 0, result.stderr
    assert result.calls == _pair("data", "prod", "destroy --yes")
    assert result.stdout.splitlines()[1] == (
        "deploy: ENV=prod protects its data (trading-data:protectData): pulumi refuses to delete "
        "the protected resources; to tear it down see "
        "docs/runbooks/per-region-rollout.md#tearing-down-a-protected-environment"
    )


def test_unprotect_runbook_anchor_exists():
    text = (REPO_ROOT / "docs" / "runbooks" / "per-region-rollout.md").read_text()
    assert "\n## Tearing down a protected environment\n" in text


def test_deploy_all_stops_at_the_first_failing_stack(make):
    failing = _verb("region", "dev-us-east-1", "up --yes")
    result = make("deploy-all", "ENV=dev", FAKE_PULUMI_FAIL=failing)
    assert result.returncode != 0
    assert result.calls == [
        *_pair("data", "dev", "up --yes"),
        *_pair("region", "dev-us-east-1", "up --yes"),
    ]
    assert f"deploy: failed (7): pulumi {failing}" in result.stderr


@pytest.mark.parametrize(
    ("target", "variables", "message"),
    [
        (
            "deploy-region",
            ["ENV=dev", "REGION=eu-west-1"],
            "deploy: REGION='eu-west-1' is not a region of ENV=dev "
            "(projects/data/Pulumi.dev.yaml: primary us-east-1, secondary us-east-2)",
        ),
        (
            "preview-region",
            ["ENV=prod", "REGION=us-west-2"],
            "deploy: REGION='us-west-2' is not a region of ENV=prod "
            "(projects/data/Pulumi.prod.yaml: primary us-east-1, secondary us-east-2)",
        ),
        (
            "deploy-region",
            ["ENV=dev"],
            "deploy: REGION is required for ENV=dev: one of us-east-1, us-east-2",
        ),
        (
            "deploy-data",
            ["ENV=staging"],
            "deploy: ENV='staging' has no data stack file projects/data/Pulumi.staging.yaml; "
            "environments: dev, prod",
        ),
        (
            "deploy-all",
            ["ENV=Prod!"],
            "deploy: ENV='Prod!' is not an environment name (^[a-z][a-z0-9-]{1,11}$)",
        ),
    ],
)
def test_refusals_are_one_line_and_call_nothing(make, target, variables, message):
    result = make(target, *variables)
    assert result.returncode != 0
    assert result.calls == []
    assert result.stderr.splitlines()[0] == message


@pytest.mark.parametrize(
    "target", ["deploy-data", "preview-region", "deploy-region", "deploy-all", "destroy-all", "plan"]
)
@pytest.mark.parametrize("payload", ["dev; {touch} {p}", "x'; {touch} {p}; echo '", "$$({touch} {p})"])
def test_shell_metacharacters_in_env_are_one_word_never_run(make, tmp_path, target, payload):
    pwned = tmp_path / "pwned"
    touch = shutil.which("touch")  # by full path: the fixture's PATH holds only the fake pulumi
    result = make(target, f"ENV={payload.format(touch=touch, p=pwned)}", "REGION=us-east-1")
    assert result.returncode != 0
    assert result.calls == []
    assert not pwned.exists()


def test_build_passes_env_as_one_word():
    proc = subprocess.run(
        [str(MAKE), "-n", "-o", STAMP, "build", "ENV=dev; touch pwned"],
        cwd=REPO_ROOT,
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.stdout.splitlines() == [".venv/bin/python tools/build_functions.py --env 'dev; touch pwned'"]


def test_pulumi_args_with_quotes_and_semicolons_reach_pulumi_as_words(make, tmp_path):
    pwned = tmp_path / "pwned"
    touch = shutil.which("touch")
    result = make("preview-data", "ENV=dev", f'PULUMI_ARGS=--message "it\'s; {touch} {pwned}"')
    assert result.returncode == 0, result.stderr
    assert result.calls == [
        _select("data", "dev"),
        _verb("data", "dev", f"preview --message it's; {touch} {pwned}"),
    ]
    assert not pwned.exists()


@pytest.mark.parametrize(
    ("pulumi_args", "message"),
    [
        (
            '--message "unclosed',
            "deploy: PULUMI_ARGS='--message \"unclosed' is not valid shell words: No closing quotation",
        ),
        ("--stack prod", "deploy: PULUMI_ARGS must not set --stack: the target chooses the stack"),
        ("-s=prod", "deploy: PULUMI_ARGS must not set -s: the target chooses the stack"),
        ("--cwd projects/edge", "deploy: PULUMI_ARGS must not set --cwd: the target chooses the stack"),
    ],
)
def test_bad_pulumi_args_are_one_line(make, pulumi_args, message):
    result = make("deploy-data", "ENV=dev", f"PULUMI_ARGS={pulumi_args}")
    assert result.returncode != 0
    assert result.calls == []
    assert result.stderr.splitlines()[0] == message


def test_region_given_to_deploy_all_is_refused(make):
    result = make("deploy-all", "ENV=dev", "REGION=us-east-2")
    assert result.returncode != 0
    assert result.calls == []
    assert result.stderr.splitlines()[0] == (
        "deploy: REGION='us-east-2' does not apply to 'all': it runs every region of ENV=dev"
    )


def test_a_missing_passphrase_file_is_refused(make, tmp_path):
    result = make(
        "preview-data",
        "ENV=dev",
        PULUMI_CONFIG_PASSPHRASE=None,
        PULUMI_CONFIG_PASSPHRASE_FILE=str(tmp_path / "nope"),
    )
    assert result.returncode != 0
    assert result.calls == []
    assert result.stderr.splitlines()[0] == (
        f"deploy: PULUMI_CONFIG_PASSPHRASE_FILE='{tmp_path / 'nope'}' is not a readable file"
    )


@pytest.mark.parametrize("target", ["deploy-region", "deploy-edge", "deploy-all"])
def test_refusals_run_before_the_archives_are_built(target):
    """A missing REGION or CLI must not wait for (or fail in) the slow, networked make build."""
    proc = subprocess.run(
        [str(MAKE), "-n", "-o", STAMP, target, "ENV=dev", "REGION=us-east-1"],
        cwd=REPO_ROOT,
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = proc.stdout.splitlines()
    check = next(i for i, line in enumerate(lines) if line.endswith(" --check"))
    build = next(i for i, line in enumerate(lines) if "tools/build_functions.py" in line)
    assert check < build


def test_missing_passphrase_is_one_clear_line(make):
    result = make("deploy-data", "ENV=dev", PULUMI_CONFIG_PASSPHRASE=None)
    assert result.returncode != 0
    assert result.calls == []
    assert result.stderr.splitlines()[0] == (
        "deploy: PULUMI_CONFIG_PASSPHRASE is not set: export the passphrase that protects this "
        "backend's stack secrets (or set PULUMI_CONFIG_PASSPHRASE_FILE)"
    )


def test_passphrase_file_is_accepted_instead(make, tmp_path):
    secret = tmp_path / "passphrase"
    secret.write_text(PASSPHRASE)
    result = make(
        "preview-data", "ENV=dev", PULUMI_CONFIG_PASSPHRASE=None, PULUMI_CONFIG_PASSPHRASE_FILE=str(secret)
    )
    assert result.returncode == 0, result.stderr
    assert result.calls == _pair("data", "dev", "preview")


def test_missing_cli_says_how_to_install_it(make):
    result = make("deploy-edge", "ENV=dev", cli=False)
    assert result.returncode != 0
    assert result.stderr.splitlines()[0] == (
        "deploy: the Pulumi CLI ('pulumi') is not on PATH: install it with "
        "'curl -fsSL https://get.pulumi.com | sh' (see https://www.pulumi.com/docs/install/), "
        "then open a new shell"
    )


def test_backend_defaults_to_a_file_backend_under_pulumi_state(make):
    state = REPO_ROOT / ".pulumi-state"
    result = make("preview-data", "ENV=dev", PULUMI_BACKEND_URL=None)
    assert result.returncode == 0, result.stderr
    expected = f"file://{state.resolve()}"
    assert result.backends == [expected, expected]
    assert state.is_dir()
    assert result.stdout.splitlines()[0] == (
        f"deploy: backend {expected} (default; set PULUMI_BACKEND_URL for another)"
    )


def test_backend_url_from_the_environment_is_kept(make, tmp_path):
    result = make("preview-edge", "ENV=dev", PULUMI_BACKEND_URL="s3://trading-dr-state?region=us-east-1")
    assert result.returncode == 0, result.stderr
    assert result.backends == ["s3://trading-dr-state?region=us-east-1"] * 2


def test_commands_are_echoed_before_they_run(make):
    result = make("deploy-data", "ENV=dev")
    assert result.stdout.splitlines()[1:] == [
        "+ pulumi --cwd projects/data stack select --create dev",
        "+ pulumi --cwd projects/data --stack dev --non-interactive up --yes",
    ]


@pytest.mark.parametrize(
    ("target", "prerequisites"),
    [
        ("deploy-region", [STAMP, "check-up-region", "build"]),
        ("deploy-all", [STAMP, "check-up-all", "build"]),
        ("deploy-edge", [STAMP, "check-up-edge", "build"]),
        ("deploy-data", [STAMP]),
        ("destroy-all", [STAMP]),
    ],
)
def test_deploying_functions_builds_the_archives_first(target, prerequisites):
    proc = subprocess.run(
        [str(MAKE), "-p", "-q", "-o", "build", "-o", STAMP, "help"],
        cwd=REPO_ROOT,
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    rules = [line for line in proc.stdout.splitlines() if line.startswith(f"{target}:")]
    assert rules == [f"{target}: {' '.join(prerequisites)}"]


def _load_deploy():
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("deploy_tool", REPO_ROOT / "tools" / "deploy.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["deploy_tool"] = module
    spec.loader.exec_module(module)
    return module


def test_regions_and_order_come_from_the_data_stack_file(tmp_path):
    """An environment with other regions: the order follows its data stack file, not defaults."""
    deploy = _load_deploy()
    data_dir = tmp_path / "projects" / "data"
    data_dir.mkdir(parents=True)
    shutil.copy(REPO_ROOT / "projects" / "data" / "Pulumi.yaml", data_dir / "Pulumi.yaml")
    (data_dir / "Pulumi.qa.yaml").write_text(
        textwrap.dedent(
            """\
            config:
              trading-data:environment: qa
              trading-data:primaryRegion: us-west-2
              trading-data:secondaryRegion: us-east-1
              trading-data:owner: platform-sre
              trading-data:costCenter: cc-qa
            """
        )
    )
    calls: list[tuple[list[str], str]] = []

    def run(argv, env, cwd):
        calls.append((argv, env["PULUMI_BACKEND_URL"]))
        return 0

    environ = {"PATH": os.environ["PATH"], "PULUMI_CONFIG_PASSPHRASE": "x", "PULUMI_BACKEND_URL": "file:///s"}
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pulumi").write_text(FAKE_PULUMI)
    (bin_dir / "pulumi").chmod(0o755)
    environ["PATH"] = str(bin_dir)
    assert deploy.main(["destroy", "all", "--env", "qa"], environ=environ, repo=tmp_path, run=run) == 0
    assert [" ".join(argv) for argv, _ in calls][1::2] == [
        "pulumi --cwd projects/edge --stack qa --non-interactive destroy --yes",
        "pulumi --cwd projects/region --stack qa-us-east-1 --non-interactive destroy --yes",
        "pulumi --cwd projects/region --stack qa-us-west-2 --non-interactive destroy --yes",
        "pulumi --cwd projects/data --stack qa --non-interactive destroy --yes",
    ]
    assert (
        deploy.main(
            ["up", "region", "--env", "qa", "--region", "us-east-2"], environ=environ, repo=tmp_path, run=run
        )
        == 2
    )


def test_a_bad_data_stack_file_is_refused_with_its_config_error(tmp_path, capsys):
    deploy = _load_deploy()
    data_dir = tmp_path / "projects" / "data"
    data_dir.mkdir(parents=True)
    shutil.copy(REPO_ROOT / "projects" / "data" / "Pulumi.yaml", data_dir / "Pulumi.yaml")
    (data_dir / "Pulumi.qa.yaml").write_text(
        "config:\n  trading-data:environment: qa\n  trading-data:primaryRegion: mars-1\n"
        "  trading-data:owner: o\n  trading-data:costCenter: c\n"
    )
    status = deploy.main(["up", "data", "--env", "qa"], environ={"PATH": ""}, repo=tmp_path)
    assert status == 2
    assert capsys.readouterr().err.startswith(
        "deploy: projects/data/Pulumi.qa.yaml: "
        "config trading-data:primaryRegion='mars-1' is not allowed: one of "
    )


@pytest.mark.parametrize(("status", "expected"), [(7, 7), (-9, 137), (-15, 143)])
def test_a_failing_command_stops_the_run_with_its_status(tmp_path, status, expected):
    deploy = _load_deploy()
    calls: list[list[str]] = []

    def run(argv, env, cwd):
        calls.append(argv)
        return status if len(calls) == 3 else 0

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pulumi").write_text(FAKE_PULUMI)
    (bin_dir / "pulumi").chmod(0o755)
    environ = {"PATH": str(bin_dir), "PULUMI_CONFIG_PASSPHRASE": "x", "PULUMI_BACKEND_URL": "file:///s"}
    assert deploy.main(["up", "all", "--env", "dev"], environ=environ, run=run) == expected
    assert len(calls) == 3


def test_ctrl_c_during_a_command_stops_the_run_with_130(tmp_path, capsys):
    deploy = _load_deploy()

    def run(argv, env, cwd):
        raise KeyboardInterrupt

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pulumi").write_text(FAKE_PULUMI)
    (bin_dir / "pulumi").chmod(0o755)
    environ = {"PATH": str(bin_dir), "PULUMI_CONFIG_PASSPHRASE": "x", "PULUMI_BACKEND_URL": "file:///s"}
    assert deploy.main(["up", "data", "--env", "dev"], environ=environ, run=run) == 130
    assert capsys.readouterr().err == (
        "deploy: interrupted: pulumi --cwd projects/data stack select --create dev\n"
    )


def test_a_data_stack_file_that_is_not_yaml_is_one_line(tmp_path, capsys):
    deploy = _load_deploy()
    data_dir = tmp_path / "projects" / "data"
    data_dir.mkdir(parents=True)
    shutil.copy(REPO_ROOT / "projects" / "data" / "Pulumi.yaml", data_dir / "Pulumi.yaml")
    (data_dir / "Pulumi.qa.yaml").write_text("config: [unclosed\n")
    assert deploy.main(["up", "data", "--env", "qa"], environ={"PATH": ""}, repo=tmp_path) == 2
    err = capsys.readouterr().err
    assert err.startswith("deploy: projects/data/Pulumi.qa.yaml: not valid YAML (")
    assert len(err.splitlines()) == 1
