"""A recording subclass of Pulumi's mock monitor: every registration, invoke and stack output."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format

from shared._pulumi_internals import MockMonitor, Mocks

SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
SIG_KEY = "4dabf18193072939515e22adb298388d"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
REDACTED = "[secret]"


def to_plain(value: Any) -> Any:
    """Turn a wire value (as decoded from the protobuf Struct) into plain JSON for a plan file.

    Secrets become ``"[secret]"``, resource references their URN, assets and archives a short
    description, unknowns ``"[unknown]"``.
    """
    if isinstance(value, dict):
        sig = value.get(SIG_KEY)
        if sig == SECRET_SIG:
            return REDACTED
        if sig == RESOURCE_SIG:
            return value.get("urn", "")
        if sig == ASSET_SIG:
            return {"asset": value.get("path") or value.get("uri") or "[text]"}
        if sig == ARCHIVE_SIG:
            if "assets" in value:
                return {"archive": sorted(value["assets"])}
            return {"archive": value.get("path") or value.get("uri") or ""}
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    if value == UNKNOWN:
        return "[unknown]"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _struct_to_plain(struct: Any) -> dict[str, Any]:
    return to_plain(json_format.MessageToDict(struct, preserving_proto_field_name=True))


@dataclass
class Registration:
    """One resource registration as the engine would record it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: str
    dependencies: list[str]
    protect: bool
    retain_on_delete: bool
    ignore_changes: list[str]
    inputs: dict[str, Any]
    id: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Invocation:
    """One provider function call (``aws.get_*``)."""

    token: str
    provider: str
    args: dict[str, Any]


class RecordingMonitor(MockMonitor):
    """Pulumi's ``MockMonitor`` that also keeps an ordered record of what the program asked for."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []
        self.invocations: list[Invocation] = []
        self.stack_outputs: dict[str, Any] = {}
        self.root_urn = ""

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the engine builds them: children of the root stack carry no parent type."""
        if parent and "::pulumi:pulumi:Stack::" in parent:
            parent = ""
        return super().make_urn(parent, type_, name)

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            self.root_urn = response.urn
            return response
        deps: list[str] = list(request.dependencies)
        for prop_deps in request.propertyDependencies.values():
            for urn in prop_deps.urns:
                if urn not in deps:
                    deps.append(urn)
        provider = request.provider.split("::", 4)
        provider_urn = "::".join(provider[:4]) if request.provider else ""
        registration = Registration(
            urn=response.urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            parent=request.parent,
            provider=provider_urn,
            dependencies=deps,
            protect=bool(request.protect),
            retain_on_delete=bool(request.retainOnDelete),
            ignore_changes=list(request.ignoreChanges),
            inputs=_struct_to_plain(request.object),
            id=response.id,
            outputs=_struct_to_plain(response.object),
        )
        self.registrations.append(registration)
        return response

    def ReadResource(self, request: Any) -> Any:
        """Reads (``StackReference`` and ``get`` lookups) are registrations of the plan too."""
        response = super().ReadResource(request)
        provider = request.provider.split("::", 4)
        self.registrations.append(
            Registration(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=True,
                parent=request.parent,
                provider="::".join(provider[:4]) if request.provider else "",
                dependencies=list(request.dependencies),
                protect=False,
                retain_on_delete=False,
                ignore_changes=[],
                # Only the name: the outputs of another stack are not this stack's inputs.
                inputs={k: v for k, v in _struct_to_plain(request.properties).items() if k == "name"},
                id=request.id,
            )
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn == self.root_urn:
            self.stack_outputs = _struct_to_plain(request.outputs)
        return super().RegisterResourceOutputs(request)

    def Invoke(self, request: Any) -> Any:
        if request.tok != "pulumi:pulumi:getResource":
            self.invocations.append(
                Invocation(
                    token=request.tok,
                    provider="::".join(request.provider.split("::", 4)[:4]) if request.provider else "",
                    args=_struct_to_plain(request.args),
                )
            )
        return super().Invoke(request)
