"""JSON Schema of a plan file (SPEC §4), for tests and for tools that read plan files."""

from __future__ import annotations

from typing import Any

URN = {"type": "string", "pattern": "^urn:pulumi:[^:]+::[^:]+::"}

PLAN_FILE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["project", "stack", "config", "outputs", "resources", "policy"],
    "properties": {
        "project": {"enum": ["trading-data", "trading-region", "trading-edge"]},
        "stack": {"type": "string", "pattern": "^[a-z][a-z0-9-]{1,11}(-[a-z]{2}-[a-z]+-[0-9])?$"},
        "config": {
            "type": "object",
            "propertyNames": {"pattern": "^[a-z0-9-]+:[A-Za-z0-9-]+$"},
            "additionalProperties": {"type": "string"},
        },
        "outputs": {"type": "object"},
        "resources": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    "urn",
                    "type",
                    "name",
                    "region",
                    "provider",
                    "parent",
                    "dependencies",
                    "protect",
                    "retainOnDelete",
                    "ignoreChanges",
                    "inputs",
                ],
                "properties": {
                    "urn": URN,
                    "type": {"type": "string", "minLength": 3},
                    "name": {"type": "string", "minLength": 1},
                    "region": {"type": "string"},
                    "provider": {"anyOf": [{"const": ""}, {**URN, "not": {"pattern": "::[0-9a-f-]{36}$"}}]},
                    "parent": {"anyOf": [{"const": ""}, URN]},
                    "dependencies": {"type": "array", "items": URN},
                    "protect": {"type": "boolean"},
                    "retainOnDelete": {"type": "boolean"},
                    "ignoreChanges": {"type": "array", "items": {"type": "string"}},
                    "inputs": {"type": "object"},
                },
            },
        },
        "policy": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["rule", "severity", "urn", "message"],
                "properties": {
                    "rule": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"},
                    "severity": {"enum": ["mandatory", "advisory"]},
                    "urn": {"type": "string"},
                    "message": {"type": "string", "minLength": 1},
                },
            },
        },
    },
}
