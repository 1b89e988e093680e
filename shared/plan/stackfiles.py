"""Reading a project's committed ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` as the engine would."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from shared.errors import ConfigError

SECRET_PLACEHOLDER = "offline-plan-secret"


class StackFileError(Exception):
    """A stack's ``Pulumi.<stack>.yaml`` is missing or unreadable; the message is one line."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        super().__init__(f"{path}: {problem}")


@dataclass(frozen=True)
class StackConfig:
    """Config of one stack, flattened to ``{"ns:key": "string"}`` like the Pulumi engine does."""

    project: str
    stack: str
    values: dict[str, str]
    secret_keys: list[str]


def project_name(project_dir: Path) -> str:
    """The ``name`` of ``project_dir/Pulumi.yaml``."""
    doc = yaml.safe_load((project_dir / "Pulumi.yaml").read_text())
    return str(doc["name"])


def _as_config_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)


def load_stack_config(project_dir: Path, stack: str) -> StackConfig:
    """Load ``Pulumi.<stack>.yaml``; ``secure:`` values become a placeholder marked secret.

    Raises :class:`StackFileError` when the file is missing, not YAML, or not a mapping.
    """
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise StackFileError(path, f"missing: stack {stack!r} needs this stack file (create it, or fix ENV)")
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise StackFileError(path, f"not valid YAML ({' '.join(str(exc).split())})") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("config") or {}, dict):
        raise StackFileError(path, "must be a mapping with a 'config' mapping")
    project = project_name(project_dir)
    values: dict[str, str] = {}
    secrets: list[str] = []
    for key, value in (doc.get("config") or {}).items():
        full = key if ":" in key else f"{project}:{key}"
        if value is None:
            # The engine has no null config value; "None" must not reach the settings as text.
            raise ConfigError(full, None, f"a value; {path.name} sets it to null")
        if isinstance(value, dict) and set(value) == {"secure"}:
            values[full] = SECRET_PLACEHOLDER
            secrets.append(full)
        else:
            values[full] = _as_config_string(value)
    return StackConfig(project=project, stack=stack, values=values, secret_keys=secrets)
