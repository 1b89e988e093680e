"""The pulumi-policy (CrossGuard) side of the rules: the same rule objects, adapted (SPEC S5).

``policies/__main__.py`` calls :func:`build_policies` and hands the list to ``PolicyPack``.
Each :class:`~shared.policy.rules.ResourceRule` marked ``expressible_in_pack`` becomes a
``ResourceValidationPolicy`` and each such :class:`~shared.policy.rules.StackRule` a
``StackValidationPolicy``; both turn pulumi-policy's arguments into the views the rules read
offline (:class:`ResourceView`, a plan-file-shaped document), so a rule has one implementation.

What the pack cannot see, and so what stays offline: the stack config (environment,
``pulumi:disable-default-providers``), stack outputs, ``retainOnDelete`` and whether an input is
secret. Unknown values of a preview raise pulumi-policy's ``UnknownValueError`` when a rule reads
them, which the pack reports as "can't run during preview" rather than as a false violation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError, _is_unknown

from shared.policy.rules import (
    MANDATORY,
    PACK_SOURCE,
    PlanView,
    ResourceRule,
    ResourceView,
    Rule,
    StackRule,
    rules_expressible_in_pack,
    stack_rules_expressible_in_pack,
)

PACK_NAME = "trading-dr"


class _StrictDict(dict[str, Any]):
    """A plain dict (rules test ``isinstance(x, dict)``) that raises on reading an unknown."""

    def __init__(self, items: Mapping[str, Any], path: list[str]) -> None:
        super().__init__(items)
        self._path = path

    def __getitem__(self, key: str) -> Any:
        return _checked(super().__getitem__(key), [*self._path, str(key)])

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return self[key] if key in self else default

    def items(self) -> Iterator[tuple[str, Any]]:  # type: ignore[override]
        return ((k, self[k]) for k in self)

    def values(self) -> Iterator[Any]:  # type: ignore[override]
        return (self[k] for k in self)


class _StrictList(list[Any]):
    """A plain list that raises on reading an unknown element."""

    def __init__(self, items: Iterable[Any], path: list[str]) -> None:
        super().__init__(items)
        self._path = path

    def __getitem__(self, index: Any) -> Any:
        return _checked(super().__getitem__(index), [*self._path, str(index)])

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(len(self)))


def _checked(value: Any, path: list[str]) -> Any:
    if isinstance(value, str) and _is_unknown(value):
        raise UnknownValueError(value, path)
    return value


def plain(value: Any, path: list[str] | None = None) -> Any:
    """pulumi-policy's proxied props → dicts and lists the rules can read (unknowns kept guarded)."""
    path = path or []
    if _is_proxy(value):
        value = value["__target"]  # the raw container: children proxied, unknown leaves kept
    if isinstance(value, Mapping):
        return _StrictDict({str(k): plain(value[k], [*path, str(k)]) for k in value}, path)
    if isinstance(value, list | tuple):
        return _StrictList([plain(v, [*path, str(i)]) for i, v in enumerate(value)], path)
    return value


def _is_proxy(value: Any) -> bool:
    return type(value).__name__ in ("_DictProxy", "_ListProxy")


def _known_str(props: Mapping[str, Any] | None, key: str) -> str:
    if props is None or key not in props:
        return ""
    raw = props["__target"][key] if _is_proxy(props) else props[key]
    return raw if isinstance(raw, str) and not _is_unknown(raw) else ""


def _region(props: Mapping[str, Any], provider_props: Mapping[str, Any] | None) -> str:
    # Same precedence as plan files: the resource's region input, else its provider's region.
    return _known_str(props, "region") or _known_str(provider_props, "region")


def resource_view(args: ResourceValidationArgs) -> ResourceView:
    """The :class:`ResourceView` of one resource as pulumi-policy shows it."""
    provider = args.provider
    return ResourceView(
        urn=args.urn,
        type=args.resource_type,
        name=args.name,
        region=_region(args.props, provider.props if provider else None)
        if args.resource_type.startswith("aws:") or args.resource_type == "pulumi:providers:aws"
        else "",
        inputs=plain(args.props),
        provider=provider.urn if provider else "",
        protect=bool(args.opts.protect),
        ignore_changes=tuple(args.opts.ignore_changes or ()),
    )


def _resource_entry(r: PolicyResource) -> dict[str, Any]:
    provider = r.provider
    dependencies = {d.urn for d in r.dependencies}
    for deps in r.property_dependencies.values():
        dependencies |= {d.urn for d in deps}
    aws = r.resource_type.startswith("aws:") or r.resource_type == "pulumi:providers:aws"
    return {
        "urn": r.urn,
        "type": r.resource_type,
        "name": r.name,
        "region": _region(r.props, provider.props if provider else None) if aws else "",
        "provider": provider.urn if provider else "",
        "parent": r.parent.urn if r.parent else "",
        "dependencies": sorted(dependencies),
        "protect": bool(r.opts.protect),
        "retainOnDelete": False,  # not visible to pulumi-policy; rules that need it run offline
        "ignoreChanges": list(r.opts.ignore_changes or ()),
        "inputs": plain(r.props),
    }


def stack_document(args: StackValidationArgs) -> dict[str, Any]:
    """A plan-file-shaped document of the stack as pulumi-policy's stack validation shows it."""
    return {
        "source": PACK_SOURCE,
        "config": {},
        "outputs": {},
        "resources": [_resource_entry(r) for r in args.resources],
    }


def _level(rule: Rule) -> EnforcementLevel:
    return EnforcementLevel.MANDATORY if rule.severity == MANDATORY else EnforcementLevel.ADVISORY


def resource_policy(rule: ResourceRule) -> ResourceValidationPolicy:
    """A ``ResourceValidationPolicy`` that runs ``rule.check`` on resources of its types."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in rule.types:
            return
        for message in rule.check(resource_view(args)):
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=rule.id, description=rule.description, validate=validate, enforcement_level=_level(rule)
    )


def stack_policy(rule: StackRule) -> StackValidationPolicy:
    """A ``StackValidationPolicy`` that runs ``rule.check`` on the whole stack."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        plan = PlanView(stack_document(args))
        for urn, message in rule.evaluate(plan):
            report_violation(message, urn or None)

    return StackValidationPolicy(
        name=rule.id, description=rule.description, validate=validate, enforcement_level=_level(rule)
    )


def build_policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    """Every pack-expressible rule of :mod:`shared.policy.rules` as a pulumi-policy policy."""
    policies: list[ResourceValidationPolicy | StackValidationPolicy] = [
        resource_policy(r) for r in rules_expressible_in_pack()
    ]
    policies += [stack_policy(r) for r in stack_rules_expressible_in_pack()]
    return policies
