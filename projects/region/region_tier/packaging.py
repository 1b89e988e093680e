"""Where the program takes the function code from (SPEC R2, §4 ``make build``).

``make build`` (``tools/build_functions.py``) writes ``build/functions/<name>.zip`` with the
dependencies for the configured runtime and architecture, and ``manifest.json`` beside them.

* Archives present: the program deploys exactly those files, after checking that the manifest
  was built for this stack's ``lambdaRuntime``/``lambdaArchitecture`` and, outside a preview,
  with dependencies (a ``--no-deps`` archive would deploy and fail on its first import).
* Archives missing: a preview (and the offline plan, which is a preview under mocks) uses the
  function's source folders as a code-only archive and says so (an info line); a deployment
  stops with one line telling the operator to run ``make build``. So ``make plan`` needs no
  build step, and nothing without its dependencies can ever reach Lambda.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pulumi

REPO_ROOT = Path(__file__).resolve().parents[3]
FUNCTIONS_DIR = REPO_ROOT / "projects" / "region" / "functions"
BUILD_DIR = REPO_ROOT / "build" / "functions"
COMMON_DIR = FUNCTIONS_DIR / "common"
MANIFEST = "manifest.json"
_SKIPPED_DIRS = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", "tests"})


class ArchiveError(pulumi.RunError):
    """The deployment archives are missing or were built for something else (one line)."""


@dataclass(frozen=True)
class FunctionCode:
    """The archive of one function and where it came from."""

    archive: pulumi.Archive
    source: str  # "build" (make build) or "source" (code only, previews)


def _source_archive(name: str) -> pulumi.AssetArchive:
    """The function folder plus ``common/`` at the root, as the build lays them out (no deps)."""
    assets: dict[str, pulumi.Asset | pulumi.Archive] = {}
    for root in (FUNCTIONS_DIR / name, COMMON_DIR):
        for directory, subdirs, files in os.walk(root):
            subdirs[:] = sorted(d for d in subdirs if d not in _SKIPPED_DIRS)
            for filename in sorted(files):
                if filename.endswith((".pyc", ".pyo")):
                    continue
                path = Path(directory) / filename
                assets[path.relative_to(root).as_posix()] = pulumi.FileAsset(str(path))
    return pulumi.AssetArchive(dict(sorted(assets.items())))


def function_code(
    name: str, runtime: str, architecture: str, *, dry_run: bool, build_dir: Path = BUILD_DIR
) -> FunctionCode:
    """The code of function ``name`` for this stack; see the module docstring for the rules."""
    archive = build_dir / f"{name}.zip"
    manifest_path = build_dir / MANIFEST
    if not archive.is_file() or not manifest_path.is_file():
        if not dry_run:
            raise ArchiveError(
                f"{archive.relative_to(REPO_ROOT) if archive.is_relative_to(REPO_ROOT) else archive} "
                "is missing: run `make build` before deploying"
            )
        pulumi.log.info(f"{name}: no build/functions/{name}.zip; previewing with the code-only source folder")
        return FunctionCode(archive=_source_archive(name), source="source")
    try:
        manifest = json.loads(manifest_path.read_text())
    except ValueError:
        raise ArchiveError(f"{manifest_path} is not JSON: run `make build` again") from None
    built = (manifest.get("runtime"), manifest.get("architecture"))
    if built != (runtime, architecture) or name not in manifest.get("functions", {}):
        raise ArchiveError(
            f"{archive.name} was built for {built[0]}/{built[1]}, this stack needs {runtime}/{architecture}: "
            "run `make build` for this environment"
        )
    if manifest.get("dependencies") is not True and not dry_run:
        raise ArchiveError(f"{archive.name} holds code only (built with --no-deps): run `make build`")
    return FunctionCode(archive=pulumi.FileArchive(str(archive)), source="build")
