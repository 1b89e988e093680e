#!/usr/bin/env python3
"""Build the deployment archives of the Lambda functions.

    python tools/build_functions.py --runtime python3.13 --architecture arm64
    python tools/build_functions.py --env dev     # runtime/architecture from the dev region stacks

For each function — the regional ``api`` and ``processor`` (``projects/region/functions/``) and
the edge's failover orchestrator ``failover`` (``projects/edge/functions/``) — this writes
``build/functions/<name>.zip`` holding, at the archive root: the function folder (``handler.py``
and its logic package), the shared ``trading_runtime`` package from
``projects/region/functions/common/``, and the dependencies of the folder's
``requirements.txt``, installed for the Lambda platform with

    pip install --platform manylinux2014_<aarch64|x86_64> --implementation cp
        --python-version <x.y> --only-binary=:all: --target <tmp> -r <requirements>

``boto3``, ``botocore`` and ``s3transfer`` are left out: the Lambda Python runtime provides
them. The archive is deterministic — entries sorted, fixed timestamps and permissions, no
``__pycache__`` — so the same sources and dependency versions give the same sha256, and Pulumi
only updates a function whose code changed. ``--no-deps`` skips pip (offline tests, and a quick
look at what the code part contains). A ``manifest.json`` next to the archives records name,
size, sha256, runtime and architecture.

Runtime and architecture: the regional functions take ``--runtime``/``--architecture`` (or the
region stacks of ``--env``). The orchestrator always takes the edge program's own
(``EDGE_RUNTIME``/``EDGE_ARCHITECTURE``): the edge stack has no such keys, and an archive built
for anything else would not import in the function the edge program deploys.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FUNCTIONS_DIR = REPO_ROOT / "projects" / "region" / "functions"
DEFAULT_EDGE_FUNCTIONS_DIR = REPO_ROOT / "projects" / "edge" / "functions"
DEFAULT_OUTPUT_DIR = REPO_ROOT / "build" / "functions"
REGION_FUNCTIONS = ("api", "processor")
#: Functions of the edge program; its orchestrator reads ``build/functions/failover.zip``.
EDGE_FUNCTIONS = ("failover",)
FUNCTIONS = REGION_FUNCTIONS + EDGE_FUNCTIONS
COMMON_DIR_NAME = "common"

if str(REPO_ROOT) not in sys.path:  # run as a script: make the repo's `shared` importable
    sys.path.insert(0, str(REPO_ROOT))

from shared.runtimes import (  # noqa: E402
    DEFAULT_LAMBDA_PYTHON_RUNTIME,
    SUPPORTED_LAMBDA_PYTHON_RUNTIMES,
    format_allowed,
)

# The same set the trading-region settings accept for lambdaRuntime (one source of truth).
SUPPORTED_RUNTIMES = tuple(format_allowed(SUPPORTED_LAMBDA_PYTHON_RUNTIMES).split(", "))
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
DEFAULT_RUNTIME = DEFAULT_LAMBDA_PYTHON_RUNTIME
DEFAULT_ARCHITECTURE = "arm64"
#: What projects/edge/edge_tier/orchestrator.py deploys the orchestrator with (it has no config
#: key for either); tests/tooling/test_build_functions.py plans the edge program to keep them equal.
EDGE_RUNTIME = DEFAULT_LAMBDA_PYTHON_RUNTIME
EDGE_ARCHITECTURE = "arm64"
REGION_PROJECT_DIR = REPO_ROOT / "projects" / "region"
REGION_NAMESPACE = "trading-region"
PROVIDED_BY_RUNTIME = frozenset({"boto3", "botocore", "s3transfer"})

ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
FILE_MODE = 0o644
EXCLUDED_DIRS = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", "tests"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo")
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


class BuildError(RuntimeError):
    """The build cannot go on; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class BuildOptions:
    """Validated command-line options (``runtime``/``architecture``: the regional functions')."""

    runtime: str
    architecture: str
    functions: tuple[str, ...]
    functions_dir: Path
    output_dir: Path
    install_deps: bool
    #: Ship bytecode when the build interpreter matches the function's runtime.
    bytecode: bool = False
    edge_functions_dir: Path = DEFAULT_EDGE_FUNCTIONS_DIR

    @property
    def python_version(self) -> str:
        """``python3.13`` → ``3.13``."""
        return self.runtime.removeprefix("python")

    @property
    def platform(self) -> str:
        """The manylinux platform tag pip installs wheels for."""
        return PLATFORMS[self.architecture]

    @property
    def ships_bytecode(self) -> bool:
        """Bytecode is compiled only by an interpreter of the runtime's version."""
        return self.bytecode and self.runtime == _interpreter_runtime()

    @property
    def common_dir(self) -> Path:
        """The shared ``trading_runtime`` package's folder (copied into every archive)."""
        return self.functions_dir / COMMON_DIR_NAME

    def function_dir(self, name: str) -> Path:
        """The source folder of function ``name`` (its project's ``functions/<name>``)."""
        return (self.edge_functions_dir if name in EDGE_FUNCTIONS else self.functions_dir) / name

    def for_function(self, name: str) -> BuildOptions:
        """These options as function ``name`` is built: the edge's own runtime/architecture
        for the orchestrator, the regional ones otherwise."""
        if name in EDGE_FUNCTIONS:
            return replace(self, runtime=EDGE_RUNTIME, architecture=EDGE_ARCHITECTURE)
        return self


@dataclass(frozen=True, slots=True)
class Artifact:
    """One built archive."""

    name: str
    path: Path
    size: int
    sha256: str
    runtime: str
    architecture: str


def _interpreter_runtime() -> str:
    return f"python{sys.version_info[0]}.{sys.version_info[1]}"


def parse_args(argv: Sequence[str] | None = None) -> BuildOptions:
    """Parse and validate arguments; a bad value exits 2 naming the flag and allowed values."""
    parser = argparse.ArgumentParser(
        prog="build_functions.py", description="Build the Lambda archives (region and edge functions)."
    )
    parser.add_argument("--runtime", default=None, help="Lambda runtime (default python3.13, or --env's)")
    parser.add_argument("--architecture", default=None, help="arm64 or x86_64 (default arm64, or --env's)")
    parser.add_argument(
        "--env",
        default=None,
        help=(
            "take --runtime/--architecture from the region stack files of this environment "
            "(projects/region/Pulumi.<env>-<region>.yaml); they must agree"
        ),
    )
    parser.add_argument(
        "--function",
        dest="functions",
        action="append",
        help=f"function to build (repeatable; default: {', '.join(FUNCTIONS)})",
    )
    parser.add_argument("--functions-dir", type=Path, default=DEFAULT_FUNCTIONS_DIR)
    parser.add_argument("--edge-functions-dir", type=Path, default=DEFAULT_EDGE_FUNCTIONS_DIR)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT_DIR)
    parser.add_argument("--no-deps", action="store_true", help="skip pip: package only the code (offline)")
    parser.add_argument(
        "--bytecode",
        choices=("auto", "always", "never"),
        default="auto",
        help=(
            "ship .pyc files (unchecked-hash, reproducible): /var/task is read-only, so "
            "without them every cold start compiles every module. Needs the build Python to "
            "match the runtime; 'auto' compiles only then"
        ),
    )
    args = parser.parse_args(argv)
    if args.env is not None:
        try:
            configured = stack_build_settings(args.env)
        except BuildError as exc:
            parser.error(str(exc))
        args.runtime = args.runtime or configured[0]
        args.architecture = args.architecture or configured[1]
    args.runtime = args.runtime or DEFAULT_RUNTIME
    args.architecture = args.architecture or DEFAULT_ARCHITECTURE

    if args.runtime not in SUPPORTED_RUNTIMES:
        parser.error(
            f"--runtime {args.runtime!r} is not supported; choose one of {', '.join(SUPPORTED_RUNTIMES)}"
        )
    if args.architecture not in PLATFORMS:
        parser.error(
            f"--architecture {args.architecture!r} is not supported; choose one of {', '.join(PLATFORMS)}"
        )
    functions = tuple(dict.fromkeys(args.functions or FUNCTIONS))
    unknown = [name for name in functions if name not in FUNCTIONS]
    if unknown:
        parser.error(
            f"--function {unknown[0]!r} is not a function of this project; choose from {', '.join(FUNCTIONS)}"
        )
    options = BuildOptions(
        runtime=args.runtime,
        architecture=args.architecture,
        functions=functions,
        functions_dir=args.functions_dir.resolve(),
        output_dir=args.output.resolve(),
        install_deps=not args.no_deps,
        bytecode=args.bytecode != "never",
        edge_functions_dir=args.edge_functions_dir.resolve(),
    )
    if args.bytecode == "always":
        built_for = sorted({options.for_function(name).runtime for name in functions})
        mismatched = [runtime for runtime in built_for if runtime != _interpreter_runtime()]
        if mismatched:
            parser.error(
                f"--bytecode always needs a {mismatched[0]} interpreter to build with; this is "
                f"Python {sys.version_info[0]}.{sys.version_info[1]} (use --bytecode auto or never)"
            )
    # trading_runtime comes from the regional folder whichever function is built.
    folders = [options.function_dir(name) for name in functions] + [options.common_dir]
    missing = [str(folder) for folder in folders if not folder.is_dir()]
    if missing:
        parser.error(f"missing {', '.join(missing)} (see --functions-dir, --edge-functions-dir)")
    return options


def stack_build_settings(env: str, region_dir: Path = REGION_PROJECT_DIR) -> tuple[str, str]:
    """``(lambdaRuntime, lambdaArchitecture)`` shared by the region stacks of ``env``.

    The archives in ``build/functions`` serve every region stack, so the stacks of one
    environment must agree; a stack file without the key uses the settings' default.
    """
    from shared.plan.stackfiles import StackFileError, load_stack_config

    # Only <env>-<region>: environment names may hold hyphens, so a plain glob on "dev-*"
    # would also take the stacks of an environment "dev-x".
    stack_name = re.compile(rf"Pulumi\.({re.escape(env)}-[a-z]{{2}}(?:-[a-z]+)+-[0-9]+)\.yaml")
    stacks = sorted(
        match.group(1) for path in region_dir.iterdir() if (match := stack_name.fullmatch(path.name))
    )
    if not stacks:
        shown = region_dir.relative_to(REPO_ROOT) if region_dir.is_relative_to(REPO_ROOT) else region_dir
        raise BuildError(f"--env {env!r}: no {shown}/Pulumi.{env}-<region>.yaml")
    found: dict[tuple[str, str], list[str]] = {}
    for stack in stacks:
        try:
            values = load_stack_config(region_dir, stack).values
        except StackFileError as exc:
            raise BuildError(f"--env {env!r}: {exc}") from exc
        key = (
            values.get(f"{REGION_NAMESPACE}:lambdaRuntime", DEFAULT_RUNTIME),
            values.get(f"{REGION_NAMESPACE}:lambdaArchitecture", DEFAULT_ARCHITECTURE),
        )
        path = region_dir / f"Pulumi.{stack}.yaml"
        found.setdefault(key, []).append(path.name)
    if len(found) > 1:
        detail = "; ".join(f"{'/'.join(k)} in {', '.join(v)}" for k, v in sorted(found.items()))
        raise BuildError(f"--env {env!r}: the region stacks disagree on runtime/architecture ({detail})")
    return next(iter(found))


def requirement_name(line: str) -> str | None:
    """The normalised project name of a requirements line (``None`` for blanks/comments)."""
    stripped = line.split("#", 1)[0].strip()
    if not stripped or stripped.startswith("-"):
        return None
    match = _REQUIREMENT_NAME.match(stripped)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else None


def filter_requirements(text: str) -> str:
    """``requirements.txt`` without the packages the Lambda runtime provides, nor comments."""
    kept = []
    for line in text.splitlines():
        name = requirement_name(line)
        if name is None or name in PROVIDED_BY_RUNTIME:
            continue
        kept.append(line.split("#", 1)[0].strip())
    return "\n".join(kept) + ("\n" if kept else "")


def pip_install_command(requirements: Path, target: Path, options: BuildOptions) -> list[str]:
    """The pip command that installs ``requirements`` for the Lambda platform into ``target``."""
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--quiet",
        "--platform",
        options.platform,
        "--implementation",
        "cp",
        "--python-version",
        options.python_version,
        "--only-binary=:all:",
        "--no-compile",
        "--target",
        str(target),
        "--requirement",
        str(requirements),
    ]


def install_dependencies(function_dir: Path, target: Path, options: BuildOptions) -> None:
    """pip-install the function's requirements into ``target`` (runtime-provided ones left out)."""
    requirements = function_dir / "requirements.txt"
    if not requirements.is_file():
        raise BuildError(f"{requirements} is missing (pin the runtime dependencies there)")
    filtered = target.parent / f"{function_dir.name}-requirements.txt"
    filtered.write_text(filter_requirements(requirements.read_text()))
    if not filtered.read_text().strip():
        return
    command = pip_install_command(filtered, target, options)
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BuildError(
            f"pip failed for {function_dir.name} ({options.platform}, Python "
            f"{options.python_version}):\n{result.stderr.strip()}"
        )


def prune_runtime_provided(target: Path) -> list[str]:
    """Remove what the Lambda runtime provides (a dependency may pull botocore in); returns
    the names removed. Also drops ``bin/`` (console scripts are useless in Lambda)."""
    removed = []
    for entry in sorted(target.iterdir()):
        is_metadata = entry.name.endswith((".dist-info", ".egg-info"))
        base = entry.name.split("-", 1)[0].lower() if is_metadata else entry.name
        if base in PROVIDED_BY_RUNTIME or entry.name == "bin":
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry.name)
    return removed


def collect_files(root: Path, prefix: str = "") -> dict[str, Path]:
    """Archive name → file for everything under ``root`` except caches and bytecode."""
    files: dict[str, Path] = {}
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in EXCLUDED_DIRS)
        for name in names:
            if name.endswith(EXCLUDED_SUFFIXES):
                continue
            path = Path(directory) / name
            arcname = prefix + path.relative_to(root).as_posix()
            files[arcname] = path
    return files


def archive_contents(function_dir: Path, common_dir: Path, deps_dir: Path | None = None) -> dict[str, Path]:
    """Everything that goes into one archive; a name claimed twice is an error."""
    contents: dict[str, Path] = {}
    sources = [collect_files(function_dir), collect_files(common_dir)]
    if deps_dir is not None:
        sources.append(collect_files(deps_dir))
    for files in sources:
        for arcname, path in files.items():
            if arcname in contents:
                raise BuildError(f"{arcname} would come from both {contents[arcname]} and {path}; rename one")
            contents[arcname] = path
    return contents


def compile_bytecode(
    contents: Mapping[str, Path], scratch: Path, own_code: frozenset[str] = frozenset()
) -> dict[str, Path]:
    """``__pycache__/*.pyc`` for every module in ``contents``, compiled by this interpreter.

    Unchecked-hash pycs carry no source mtime (reproducible) and are never revalidated, which
    is right for an immutable archive; the embedded file name is the archive path.
    """
    compiled: dict[str, Path] = {}
    tag = sys.implementation.cache_tag
    for arcname, source in contents.items():
        if not arcname.endswith(".py"):
            continue
        directory, _, filename = arcname.rpartition("/")
        pyc_name = f"{filename[:-3]}.{tag}.pyc"
        pyc_arcname = f"{directory}/__pycache__/{pyc_name}" if directory else f"__pycache__/{pyc_name}"
        target = scratch / "bytecode" / pyc_arcname
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            py_compile.compile(
                str(source),
                cfile=str(target),
                dfile=arcname,
                doraise=True,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )
        except py_compile.PyCompileError as exc:
            if arcname in own_code:
                raise BuildError(f"{arcname} does not compile: {exc.msg}") from exc
            # Some wheels ship files for other Python versions (e.g. py2 compat modules).
            print(f"build_functions: note: not compiling {arcname}: {exc.msg}", file=sys.stderr)
            continue
        compiled[pyc_arcname] = target
    return compiled


def write_deterministic_zip(
    contents: Mapping[str, Path], destination: Path, options: BuildOptions
) -> Artifact:
    """Write ``contents`` as a reproducible zip built with ``options``; returns its size and sha256."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    with zipfile.ZipFile(partial, "w") as archive:
        for arcname in sorted(contents):
            info = zipfile.ZipInfo(arcname, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the permission bits below mean what they say
            info.external_attr = (0o100000 | FILE_MODE) << 16
            archive.writestr(info, contents[arcname].read_bytes(), compresslevel=9)
    partial.replace(destination)
    data = destination.read_bytes()
    return Artifact(
        name=destination.stem,
        path=destination,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        runtime=options.runtime,
        architecture=options.architecture,
    )


def build_function(
    name: str,
    options: BuildOptions,
    installer: Callable[[Path, Path, BuildOptions], None] = install_dependencies,
) -> Artifact:
    """Build ``build/functions/<name>.zip`` (for the runtime/architecture ``name`` deploys with)."""
    options = options.for_function(name)
    function_dir = options.function_dir(name)
    common_dir = options.common_dir
    with tempfile.TemporaryDirectory(prefix=f"build-{name}-") as scratch:
        deps_dir: Path | None = None
        if options.install_deps:
            deps_dir = Path(scratch) / "deps"
            deps_dir.mkdir()
            installer(function_dir, deps_dir, options)
            prune_runtime_provided(deps_dir)
        contents = archive_contents(function_dir, common_dir, deps_dir)
        if options.ships_bytecode:
            own_code = frozenset(collect_files(function_dir)) | frozenset(collect_files(common_dir))
            contents.update(compile_bytecode(contents, Path(scratch), own_code))
        return write_deterministic_zip(contents, options.output_dir / f"{name}.zip", options)


def main(argv: Sequence[str] | None = None) -> int:
    """Build every requested function and print ``name size sha256`` per archive."""
    options = parse_args(argv)
    artifacts = []
    try:
        for name in options.functions:
            artifact = build_function(name, options)
            artifacts.append(artifact)
            print(f"{artifact.name} {artifact.size} {artifact.sha256}")
    except BuildError as exc:
        print(f"build_functions: error: {exc}", file=sys.stderr)
        return 1
    write_manifest(options, artifacts)
    return 0


def write_manifest(options: BuildOptions, artifacts: Sequence[Artifact]) -> Path:
    """Record the archives in ``manifest.json``; entries of an earlier build with the same
    runtime, architecture and dependency mode are kept (a ``--function`` build adds to them).

    The top-level runtime/architecture are the regional functions' (what the region program
    checks); every entry also names the runtime/architecture it was built for."""
    path = options.output_dir / "manifest.json"
    header = {
        "runtime": options.runtime,
        "architecture": options.architecture,
        "dependencies": options.install_deps,
    }
    functions: dict[str, object] = {}
    if path.is_file():
        try:
            previous = json.loads(path.read_text())
        except ValueError:
            previous = {}
        if all(previous.get(key) == value for key, value in header.items()):
            functions.update(previous.get("functions", {}))
    for artifact in artifacts:
        functions[artifact.name] = {
            "path": artifact.path.name,
            "size": artifact.size,
            "sha256": artifact.sha256,
            "runtime": artifact.runtime,
            "architecture": artifact.architecture,
        }
    manifest = {**header, "functions": dict(sorted(functions.items()))}
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return path


if __name__ == "__main__":
    sys.exit(main())
