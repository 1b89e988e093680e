"""Shape check of a plan document read from disk (SPEC §4), without third-party validators.

``python -m shared.policy`` reads files a user names; a file of the wrong shape must end in one
line naming the first bad field, never in a traceback from inside a rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_RESOURCE_FIELDS: dict[str, type] = {
    "urn": str,
    "type": str,
    "name": str,
    "region": str,
    "provider": str,
    "parent": str,
    "dependencies": list,
    "protect": bool,
    "retainOnDelete": bool,
    "ignoreChanges": list,
    "inputs": dict,
}
_TOP_FIELDS: dict[str, type] = {
    "project": str,
    "stack": str,
    "config": dict,
    "outputs": dict,
    "resources": list,
}


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def plan_shape_error(document: Any) -> str | None:
    """The first way ``document`` is not a plan file, as ``<field>: <problem>``; None when it is."""
    if not isinstance(document, Mapping):
        return f"top level: a JSON object is required, got {_kind(document)}"
    for key, top_kind in _TOP_FIELDS.items():
        if key not in document:
            return f"{key}: required"
        if not isinstance(document[key], top_kind):
            return f"{key}: {top_kind.__name__} required, got {_kind(document[key])}"
    for key, value in document["config"].items():
        if not isinstance(value, str):
            return f"config.{key}: string required, got {_kind(value)}"
    for index, resource in enumerate(document["resources"]):
        where = f"resources[{index}]"
        if not isinstance(resource, Mapping):
            return f"{where}: object required, got {_kind(resource)}"
        for key, kind in _RESOURCE_FIELDS.items():
            if key not in resource:
                return f"{where}.{key}: required"
            # bool is an int subclass; neither may stand in for the other here.
            if not isinstance(resource[key], kind) or (kind is not bool and isinstance(resource[key], bool)):
                return f"{where}.{key}: {kind.__name__} required, got {_kind(resource[key])}"
        for key in ("dependencies", "ignoreChanges"):
            if not all(isinstance(item, str) for item in resource[key]):
                return f"{where}.{key}: a list of strings required"
    policy = document.get("policy", [])
    if not isinstance(policy, list):
        return f"policy: list required, got {_kind(policy)}"
    return None
