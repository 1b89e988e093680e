"""Where the region program takes the function code from (projects/region/region_tier/packaging.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pulumi
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "projects" / "region"))
from region_tier.packaging import ArchiveError, function_code

API_SOURCES = [
    "handler.py",
    "order_api/__init__.py",
    "order_api/logic.py",
    "order_api/validation.py",
    "requirements.txt",
    "trading_runtime/__init__.py",
    "trading_runtime/aws.py",
    "trading_runtime/control.py",
    "trading_runtime/database.py",
    "trading_runtime/dynamo.py",
    "trading_runtime/ledger.py",
    "trading_runtime/orders.py",
    "trading_runtime/settings.py",
]


def build_dir(tmp_path: Path, runtime="python3.13", architecture="arm64", dependencies=True) -> Path:
    out = tmp_path / "functions"
    out.mkdir()
    (out / "api.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    manifest = {
        "runtime": runtime,
        "architecture": architecture,
        "dependencies": dependencies,
        "functions": {"api": {"path": "api.zip", "size": 22, "sha256": "x"}},
    }
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out


def test_built_archive_is_deployed_as_is(tmp_path):
    out = build_dir(tmp_path)

    code = function_code("api", "python3.13", "arm64", dry_run=False, build_dir=out)

    assert code.source == "build"
    assert isinstance(code.archive, pulumi.FileArchive)
    assert code.archive.path == str(out / "api.zip")


def test_preview_without_archives_uses_the_source_folders(tmp_path):
    code = function_code("api", "python3.13", "arm64", dry_run=True, build_dir=tmp_path / "none")

    assert code.source == "source"
    assert isinstance(code.archive, pulumi.AssetArchive)
    assert sorted(code.archive.assets) == API_SOURCES


@pytest.mark.parametrize(
    ("kwargs", "dry_run", "message"),
    [
        (None, False, "is missing: run `make build` before deploying"),
        (
            {"architecture": "x86_64"},
            True,
            "api.zip was built for python3.13/x86_64, this stack needs python3.13/arm64: "
            "run `make build` for this environment",
        ),
        (
            {"runtime": "python3.12"},
            False,
            "api.zip was built for python3.12/arm64, this stack needs python3.13/arm64",
        ),
        ({"dependencies": False}, False, "api.zip holds code only (built with --no-deps): run `make build`"),
    ],
    ids=["missing-on-deploy", "other-architecture", "other-runtime", "code-only-on-deploy"],
)
def test_unusable_archives_stop_the_program_with_one_line(tmp_path, kwargs, dry_run, message):
    out = build_dir(tmp_path, **kwargs) if kwargs is not None else tmp_path / "none"

    with pytest.raises(ArchiveError) as err:
        function_code("api", "python3.13", "arm64", dry_run=dry_run, build_dir=out)

    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_code_only_archive_is_fine_for_a_preview(tmp_path):
    out = build_dir(tmp_path, dependencies=False)

    assert function_code("api", "python3.13", "arm64", dry_run=True, build_dir=out).source == "build"
