"""tools/build_functions.py: argument validation, requirements filtering, reproducible zips.

No network: pip is never called (``--no-deps``, or an installer stub that writes files).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = REPO_ROOT / "projects" / "region" / "functions"


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
            "--function 'orchestrator' is not a function of this project; choose from api, processor",
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
    assert options.functions == ("api", "processor")
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


def _build(tmp_path: Path, name: str, functions_dir: Path = FUNCTIONS_DIR) -> Path:
    out = tmp_path / name
    assert (
        bf.main(
            [
                "--no-deps",
                "--bytecode",
                "never",
                "--functions-dir",
                str(functions_dir),
                "--output",
                str(out),
            ]
        )
        == 0
    )
    return out


def test_archives_are_reproducible_and_hold_the_code(tmp_path, capsys):
    first = _build(tmp_path, "one")
    # Same sources with different mtimes and a stray bytecode cache: same bytes.
    copy = tmp_path / "functions"
    shutil.copytree(FUNCTIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for path in copy.rglob("*"):
        os.utime(path, (1_900_000_000, 1_900_000_000))
    (copy / "api" / "__pycache__").mkdir()
    (copy / "api" / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"stale")
    second = _build(tmp_path, "two", copy)

    printed = capsys.readouterr().out.splitlines()
    for name in ("api", "processor"):
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
