"""tools/build_functions.py: argument validation, requirements filtering, reproducible zips.

No network: pip is never called (``--no-deps``, or an installer stub that writes files).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = REPO_ROOT / "projects" / "region" / "functions"
EDGE_FUNCTIONS_DIR = REPO_ROOT / "projects" / "edge" / "functions"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_functions", REPO_ROOT / "tools" / "build_functions.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_functions"] = module
    spec.loader.exec_module(module)
    return module


bf = _load()
OTHER_RUNTIME = "python3.13" if sys.version_info[:2] != (3, 13) else "python3.12"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--runtime", "python3.8"],
            "--runtime 'python3.8' is not supported; choose one of python3.12, python3.13, python3.14",
        ),
        (
            ["--runtime", "nodejs20.x"],
            "--runtime 'nodejs20.x' is not supported; choose one of python3.12, python3.13, python3.14",
        ),
        (
            ["--runtime", "python3.11"],
            "--runtime 'python3.11' is not supported; choose one of python3.12, python3.13, python3.14",
        ),
        (
            ["--runtime", "3.13"],
            "--runtime '3.13' is not supported; choose one of python3.12, python3.13, python3.14",
        ),
        (
            ["--architecture", "aarch64"],
            "--architecture 'aarch64' is not supported; choose one of arm64, x86_64",
        ),
        (
            ["--architecture", "amd64"],
            "--architecture 'amd64' is not supported; choose one of arm64, x86_64",
        ),
        (
            ["--function", "orchestrator"],
            "--function 'orchestrator' is not a function of this project; "
            "choose from api, processor, failover",
        ),
        (
            ["--runtime", OTHER_RUNTIME, "--bytecode", "always"],
            f"--bytecode always needs a {OTHER_RUNTIME} interpreter to build with",
        ),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exited:
        bf.parse_args(argv)

    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_missing_functions_dir_is_named(tmp_path, capsys):
    with pytest.raises(SystemExit):
        bf.parse_args(["--functions-dir", str(tmp_path)])

    err = capsys.readouterr().err
    assert f"missing {tmp_path / 'api'}, {tmp_path / 'processor'}, {tmp_path / 'common'}" in err


@pytest.mark.parametrize(
    ("architecture", "platform"),
    [("arm64", "manylinux2014_aarch64"), ("x86_64", "manylinux2014_x86_64")],
)
def test_valid_arguments_and_the_pip_command(architecture, platform, tmp_path):
    options = bf.parse_args(
        ["--runtime", "python3.13", "--architecture", architecture, "--output", str(tmp_path)]
    )

    assert (options.runtime, options.python_version, options.platform) == (
        "python3.13",
        "3.13",
        platform,
    )
    assert options.functions == ("api", "processor", "failover")
    assert options.install_deps is True
    assert bf.pip_install_command(Path("/r.txt"), Path("/t"), options) == [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--quiet",
        "--platform",
        platform,
        "--implementation",
        "cp",
        "--python-version",
        "3.13",
        "--only-binary=:all:",
        "--no-compile",
        "--target",
        "/t",
        "--requirement",
        "/r.txt",
    ]


def test_requirements_filter_drops_what_the_runtime_provides():
    text = (
        "# pinned\n"
        "aws-lambda-powertools==3.37.0\n"
        "boto3==1.44.5  # provided\n"
        "BotoCore>=1.0\n"
        "s3transfer\n"
        "pg8000==1.31.6 # pure python\n"
        "\n"
    )

    assert bf.filter_requirements(text) == "aws-lambda-powertools==3.37.0\npg8000==1.31.6\n"


def test_shipped_requirements_are_pinned():
    for function in ("api", "processor"):
        lines = (FUNCTIONS_DIR / function / "requirements.txt").read_text().splitlines()
        requirements = [line for line in lines if bf.requirement_name(line)]
        assert requirements, function
        assert all("==" in line for line in requirements), (function, requirements)
        names = {bf.requirement_name(line) for line in requirements}
        assert {"aws-lambda-powertools", "pg8000"} <= names


def _build(
    tmp_path: Path,
    name: str,
    functions_dir: Path = FUNCTIONS_DIR,
    edge_functions_dir: Path = EDGE_FUNCTIONS_DIR,
) -> Path:
    out = tmp_path / name
    assert (
        bf.main(
            [
                "--no-deps",
                "--bytecode",
                "never",
                "--functions-dir",
                str(functions_dir),
                "--edge-functions-dir",
                str(edge_functions_dir),
                "--output",
                str(out),
            ]
        )
        == 0
    )
    return out


def _copy_with_new_mtimes(source: Path, copy: Path, stray_cache: str) -> None:
    """``source`` copied with other mtimes and a stale bytecode cache in ``stray_cache``."""
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for path in copy.rglob("*"):
        os.utime(path, (1_900_000_000, 1_900_000_000))
    (copy / stray_cache / "__pycache__").mkdir()
    (copy / stray_cache / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"stale")


def test_archives_are_reproducible_and_hold_the_code(tmp_path, capsys):
    first = _build(tmp_path, "one")
    # Same sources with different mtimes and a stray bytecode cache: same bytes.
    _copy_with_new_mtimes(FUNCTIONS_DIR, tmp_path / "functions", "api")
    _copy_with_new_mtimes(EDGE_FUNCTIONS_DIR, tmp_path / "edge-functions", "failover")
    second = _build(tmp_path, "two", tmp_path / "functions", tmp_path / "edge-functions")

    printed = capsys.readouterr().out.splitlines()
    for name in ("api", "processor", "failover"):
        one = (first / f"{name}.zip").read_bytes()
        assert one == (second / f"{name}.zip").read_bytes()
        assert f"{name} {len(one)} {hashlib.sha256(one).hexdigest()}" in printed
        with zipfile.ZipFile(first / f"{name}.zip") as archive:
            names = archive.namelist()
            assert names == sorted(names)
            assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
            assert {info.external_attr >> 16 for info in archive.infolist()} == {0o100644}
            assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
            assert "handler.py" in names
            assert "trading_runtime/orders.py" in names
            assert "requirements.txt" in names
    with zipfile.ZipFile(first / "api.zip") as archive:
        assert "order_api/validation.py" in archive.namelist()
        assert "ledger_processor/logic.py" not in archive.namelist()
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["runtime"] == "python3.13"
    assert manifest["architecture"] == "arm64"
    assert manifest["dependencies"] is False
    assert (
        manifest["functions"]["api"]["sha256"] == hashlib.sha256((first / "api.zip").read_bytes()).hexdigest()
    )


def test_dependencies_land_at_the_root_without_runtime_packages(tmp_path):
    def fake_pip(function_dir: Path, target: Path, options) -> None:
        # What pip --target leaves behind, including a transitive botocore.
        (target / "pg8000").mkdir()
        (target / "pg8000" / "__init__.py").write_text("VERSION = 'x'\n")
        (target / "pg8000-1.31.6.dist-info").mkdir()
        (target / "pg8000-1.31.6.dist-info" / "METADATA").write_text("Name: pg8000\n")
        for package in ("botocore", "botocore-1.44.8.dist-info", "s3transfer", "bin"):
            (target / package).mkdir()
            (target / package / "__init__.py").write_text("")

    options = bf.parse_args(["--output", str(tmp_path), "--bytecode", "never"])
    artifact = bf.build_function("processor", options, installer=fake_pip)

    with zipfile.ZipFile(artifact.path) as archive:
        names = archive.namelist()
    assert "pg8000/__init__.py" in names
    assert "pg8000-1.31.6.dist-info/METADATA" in names
    assert "handler.py" in names
    assert not any(n.startswith(("botocore", "s3transfer", "bin/")) for n in names)
    assert artifact.sha256 == hashlib.sha256(artifact.path.read_bytes()).hexdigest()


def test_a_dependency_shadowing_the_code_is_an_error(tmp_path):
    def shadowing_pip(function_dir: Path, target: Path, options) -> None:
        (target / "trading_runtime").mkdir()
        (target / "trading_runtime" / "__init__.py").write_text("")

    options = bf.parse_args(["--output", str(tmp_path), "--bytecode", "never"])
    with pytest.raises(bf.BuildError, match=r"trading_runtime/__init__\.py would come from both"):
        bf.build_function("api", options, installer=shadowing_pip)


def test_bytecode_is_reproducible_and_named_after_the_archive_path(tmp_path):
    contents = bf.collect_files(FUNCTIONS_DIR / "common")
    first = bf.compile_bytecode(contents, tmp_path / "a", frozenset(contents))
    second = bf.compile_bytecode(contents, tmp_path / "b", frozenset(contents))

    tag = sys.implementation.cache_tag
    assert f"trading_runtime/__pycache__/orders.{tag}.pyc" in first
    assert sorted(first) == sorted(second)
    assert all(first[name].read_bytes() == second[name].read_bytes() for name in first)
    # Unchecked-hash pyc: flags word 0b01 (hash-based, not checked), no source mtime inside.
    header = first[f"trading_runtime/__pycache__/orders.{tag}.pyc"].read_bytes()[:16]
    assert int.from_bytes(header[4:8], "little") == 0b01


def test_runtime_list_is_the_shared_one():
    from shared.runtimes import SUPPORTED_LAMBDA_PYTHON_RUNTIMES

    assert set(bf.SUPPORTED_RUNTIMES) == set(SUPPORTED_LAMBDA_PYTHON_RUNTIMES)
    assert "python3.9" not in bf.SUPPORTED_RUNTIMES


def _region_stacks(tmp_path: Path, configs: dict[str, dict[str, str]]) -> Path:
    region_dir = tmp_path / "region"
    region_dir.mkdir()
    (region_dir / "Pulumi.yaml").write_text("name: trading-region\nruntime: python\n")
    for stack, config in configs.items():
        body = "\n".join(f"  trading-region:{k}: {v}" for k, v in config.items())
        (region_dir / f"Pulumi.{stack}.yaml").write_text(f"config:\n  aws:region: x\n{body}\n")
    return region_dir


@pytest.mark.parametrize(
    ("configs", "expected"),
    [
        ({"dev-us-east-1": {}, "dev-us-east-2": {}}, ("python3.13", "arm64")),
        (
            {
                "dev-us-east-1": {"lambdaRuntime": "python3.12", "lambdaArchitecture": "x86_64"},
                "dev-us-east-2": {"lambdaRuntime": "python3.12", "lambdaArchitecture": "x86_64"},
                "prod-us-east-1": {"lambdaRuntime": "python3.14"},
            },
            ("python3.12", "x86_64"),
        ),
    ],
    ids=["defaults", "configured"],
)
def test_env_takes_runtime_and_architecture_from_the_region_stacks(tmp_path, configs, expected):
    assert bf.stack_build_settings("dev", _region_stacks(tmp_path, configs)) == expected


def test_env_takes_only_its_own_stacks_not_those_of_a_hyphenated_environment(tmp_path):
    region_dir = _region_stacks(
        tmp_path,
        {
            "dev-us-east-1": {"lambdaArchitecture": "x86_64"},
            "dev-eu-west-1": {"lambdaArchitecture": "x86_64"},
            "dev-x-us-east-1": {"lambdaArchitecture": "arm64"},  # environment "dev-x"
        },
    )

    assert bf.stack_build_settings("dev", region_dir) == ("python3.13", "x86_64")
    assert bf.stack_build_settings("dev-x", region_dir) == ("python3.13", "arm64")


@pytest.mark.parametrize(
    ("text", "problem"),
    [("config: [unclosed", "not valid YAML ("), ("- a list", "must be a mapping with a 'config' mapping")],
    ids=["not-yaml", "not-a-mapping"],
)
def test_env_with_a_broken_stack_file_is_one_error_naming_it(tmp_path, text, problem):
    region_dir = _region_stacks(tmp_path, {"dev-us-east-1": {}})
    (region_dir / "Pulumi.dev-us-east-2.yaml").write_text(text)

    with pytest.raises(bf.BuildError) as err:
        bf.stack_build_settings("dev", region_dir)

    assert str(err.value).startswith(f"--env 'dev': {region_dir}/Pulumi.dev-us-east-2.yaml: {problem}")
    assert "\n" not in str(err.value)


def test_env_stacks_that_disagree_are_an_error(tmp_path):
    region_dir = _region_stacks(
        tmp_path,
        {"dev-us-east-1": {"lambdaArchitecture": "arm64"}, "dev-us-east-2": {"lambdaArchitecture": "x86_64"}},
    )

    with pytest.raises(bf.BuildError) as err:
        bf.stack_build_settings("dev", region_dir)

    assert str(err.value) == (
        "--env 'dev': the region stacks disagree on runtime/architecture "
        "(python3.13/arm64 in Pulumi.dev-us-east-1.yaml; python3.13/x86_64 in Pulumi.dev-us-east-2.yaml)"
    )


def test_env_of_the_committed_stacks_and_explicit_flags_win(tmp_path):
    options = bf.parse_args(["--env", "prod", "--output", str(tmp_path)])
    explicit = bf.parse_args(["--env", "prod", "--architecture", "x86_64", "--output", str(tmp_path)])

    assert (options.runtime, options.architecture) == ("python3.13", "arm64")
    assert (explicit.runtime, explicit.architecture) == ("python3.13", "x86_64")


# -- the failover orchestrator's archive (projects/edge/functions/failover) --------------------
def _fake_powertools(calls: list[tuple[Path, str, str]]):
    """An installer standing in for pip: records what it was asked for, writes one package."""

    def install(function_dir: Path, target: Path, options) -> None:
        calls.append((function_dir, options.runtime, options.platform))
        (target / "aws_lambda_powertools").mkdir()
        (target / "aws_lambda_powertools" / "__init__.py").write_text("")
        (target / "aws_lambda_powertools-3.37.0.dist-info").mkdir()
        (target / "aws_lambda_powertools-3.37.0.dist-info" / "METADATA").write_text("Name: x\n")

    return install


def _source_names(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*.py") if "__pycache__" not in p.parts}


def test_failover_archive_holds_exactly_the_orchestrator_the_runtime_and_its_deps(tmp_path):
    calls: list[tuple[Path, str, str]] = []
    # Region stacks on x86_64: the orchestrator still gets the edge's arm64 (see EDGE_ARCHITECTURE).
    options = bf.parse_args(["--output", str(tmp_path), "--bytecode", "never", "--architecture", "x86_64"])
    artifact = bf.build_function("failover", options, installer=_fake_powertools(calls))

    assert calls == [(EDGE_FUNCTIONS_DIR / "failover", "python3.13", "manylinux2014_aarch64")]
    assert (artifact.path, artifact.runtime, artifact.architecture) == (
        tmp_path / "failover.zip",
        "python3.13",
        "arm64",
    )
    with zipfile.ZipFile(artifact.path) as archive:
        names = archive.namelist()
    assert {name.split("/", 1)[0] for name in names} == {
        "handler.py",
        "requirements.txt",
        "failover_orchestrator",
        "trading_runtime",
        "aws_lambda_powertools",
        "aws_lambda_powertools-3.37.0.dist-info",
    }
    orchestrator = EDGE_FUNCTIONS_DIR / "failover" / "failover_orchestrator"
    runtime = FUNCTIONS_DIR / "common" / "trading_runtime"
    assert {n for n in names if n.startswith("failover_orchestrator/")} == {
        f"failover_orchestrator/{n}" for n in _source_names(orchestrator)
    }
    assert {n for n in names if n.startswith("trading_runtime/")} == {
        f"trading_runtime/{n}" for n in _source_names(runtime)
    }


def test_failover_archive_is_reproducible_with_dependencies(tmp_path):
    digests = []
    for run in ("one", "two"):
        options = bf.parse_args(
            ["--output", str(tmp_path / run), "--bytecode", "never", "--function", "failover"]
        )
        artifact = bf.build_function("failover", options, installer=_fake_powertools([]))
        digests.append(hashlib.sha256(artifact.path.read_bytes()).hexdigest())
        assert artifact.sha256 == digests[-1]

    assert digests[0] == digests[1]


def test_manifest_names_each_archives_runtime_and_architecture(tmp_path):
    out = tmp_path / "out"
    assert (
        bf.main(["--no-deps", "--bytecode", "never", "--architecture", "x86_64", "--output", str(out)]) == 0
    )

    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["runtime"], manifest["architecture"]) == ("python3.13", "x86_64")
    assert {
        name: (e["path"], e["runtime"], e["architecture"]) for name, e in manifest["functions"].items()
    } == {
        "api": ("api.zip", "python3.13", "x86_64"),
        "failover": ("failover.zip", "python3.13", "arm64"),
        "processor": ("processor.zip", "python3.13", "x86_64"),
    }


def test_bytecode_always_names_the_orchestrators_runtime_too(monkeypatch, capsys):
    # A python3.12 interpreter can compile the regional python3.12 functions, not the
    # orchestrator's python3.13.
    monkeypatch.setattr(bf, "_interpreter_runtime", lambda: "python3.12")
    regional = bf.parse_args(["--runtime", "python3.12", "--bytecode", "always", "--function", "api"])
    assert regional.ships_bytecode is True
    assert regional.for_function("failover").ships_bytecode is False
    with pytest.raises(SystemExit) as exited:
        bf.parse_args(["--runtime", "python3.12", "--bytecode", "always"])

    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "build_functions.py: error: --bytecode always needs a python3.13 interpreter to build with; "
        f"this is Python {sys.version_info[0]}.{sys.version_info[1]} (use --bytecode auto or never)"
    )


@pytest.fixture
def edge_orchestrator_module(monkeypatch):
    """``edge_tier.orchestrator`` as the edge program imports it (same module object)."""
    monkeypatch.syspath_prepend(str(REPO_ROOT / "projects" / "edge"))
    import edge_tier.orchestrator as orchestrator

    return orchestrator


def test_the_edge_program_deploys_the_built_failover_archive(tmp_path, monkeypatch, edge_orchestrator_module):
    from tests.planning import one
    from tests.unit.edge_planning import edge_plan

    out = tmp_path / "functions"
    options = bf.parse_args(["--output", str(out), "--bytecode", "never", "--function", "failover"])
    artifact = bf.build_function("failover", options, installer=_fake_powertools([]))
    monkeypatch.setattr(edge_orchestrator_module, "BUILT_ARCHIVE", artifact.path)

    function = one(edge_plan("dev"), "aws:lambda/function:Function", "failover-function")

    # The built file itself (not the code-only sources), for the runtime/architecture it was built for.
    assert function["inputs"]["code"] == {"archive": str(out / "failover.zip")}
    assert (function["inputs"]["runtime"], function["inputs"]["architectures"]) == (
        artifact.runtime,
        [artifact.architecture],
    )
    # Outside a preview (pulumi up) the program takes the archive instead of refusing.
    monkeypatch.setattr(edge_orchestrator_module.pulumi.runtime, "is_dry_run", lambda: False)
    archive = edge_orchestrator_module.code_archive()
    assert archive.path == str(out / "failover.zip")
    missing = edge_orchestrator_module.REPO / "build" / "functions" / "no-such-failover.zip"
    monkeypatch.setattr(edge_orchestrator_module, "BUILT_ARCHIVE", missing)
    with pytest.raises(edge_orchestrator_module.pulumi.RunError, match="is missing: build the failover"):
        edge_orchestrator_module.code_archive()


# Records, per call, whether the archive already existed when pulumi ran.
FAKE_PULUMI = """#!/bin/sh
if [ -f "$FAKE_ARCHIVE" ]; then state="archive present"; else state="no archive"; fi
echo "$state: $*" >> "$FAKE_PULUMI_LOG"
"""


@pytest.mark.skipif(shutil.which("make") is None, reason="make is required by SPEC M1")
def test_make_deploy_edge_builds_the_failover_archive_before_pulumi_runs(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pulumi").write_text(FAKE_PULUMI)
    (bin_dir / "pulumi").chmod(0o755)
    out = tmp_path / "functions"
    log = tmp_path / "pulumi.log"
    proc = subprocess.run(
        [
            str(shutil.which("make")),
            "--no-print-directory",
            "-s",
            "-o",
            ".venv/.installed",
            "deploy-edge",
            "ENV=dev",
            f"BUILD_ARGS=--no-deps --bytecode never --output {out}",
        ],
        cwd=REPO_ROOT,
        env={
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "HOME": str(tmp_path),
            "FAKE_PULUMI_LOG": str(log),
            "FAKE_ARCHIVE": str(out / "failover.zip"),
            "PULUMI_CONFIG_PASSPHRASE": "x",
            "PULUMI_BACKEND_URL": f"file://{tmp_path}/state",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert proc.returncode == 0, proc.stderr
    assert log.read_text().splitlines() == [
        "archive present: --cwd projects/edge stack select --create dev",
        "archive present: --cwd projects/edge --stack dev --non-interactive up --yes",
    ]
    assert sorted(json.loads((out / "manifest.json").read_text())["functions"]) == [
        "api",
        "failover",
        "processor",
    ]
