"""Typed, immutable settings for each project, parsed from the stack config at start (SPEC S1).

A bad value raises :class:`shared.errors.ConfigError` before any resource exists, with one line
naming the key, the value and what is allowed. Unknown keys in the project's namespace are
errors too (a typo in a stack file must not silently fall back to a default).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from shared.errors import ConfigError
from shared.regions import REGION_CODES

ENVIRONMENT_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,11}$")
ENGINE_VERSION_PATTERN = re.compile(r"^(\d+)\.(\d+)$")
MIN_ENGINE_MAJOR = 15
# Memory-optimised classes only (r = memory, x = extra memory); burstable (t) and general purpose
# (m) classes are not supported members of a production global database.
INSTANCE_CLASS_PATTERN = re.compile(r"^db\.(r\d+[a-z]*|x\d+[a-z]*)\.(large|\d*xlarge|metal)$")
TAG_VALUE_PATTERN = re.compile(r"^[\w .:/=+\-@]{1,256}$")
RESERVED_TAG_KEYS = frozenset({"Environment", "Project", "Owner", "CostCenter", "ManagedBy"})


def _allowed_regions() -> str:
    return ", ".join(sorted(REGION_CODES))


def check_environment(key: str, value: str, stack: str | None, expected_stack: str | None) -> str:
    """Validate an environment name and that it matches the stack it is deployed as."""
    if not ENVIRONMENT_PATTERN.match(value):
        raise ConfigError(
            key, value, "lower-case letter first, then 1-11 of [a-z0-9-] (^[a-z][a-z0-9-]{1,11}$)"
        )
    if stack is not None and expected_stack is not None and stack != expected_stack:
        raise ConfigError(key, value, f"must match the stack: stack {stack!r} expects {expected_stack!r}")
    return value


def check_region(key: str, value: str) -> str:
    """Validate that ``value`` is a region this product supports."""
    if value not in REGION_CODES:
        raise ConfigError(key, value, f"one of {_allowed_regions()}")
    return value


class _Settings(BaseModel):
    """Base of every project's settings: frozen, camelCase keys, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)
    namespace: ClassVar[str] = ""

    @classmethod
    def parse(cls, raw: Mapping[str, str], **context: Any) -> Any:
        """Parse ``{"<ns>:<key>": "value"}`` (as the Pulumi engine hands config over)."""
        values: dict[str, Any] = {}
        prefix = cls.namespace + ":"
        for full_key, value in raw.items():
            if not full_key.startswith(prefix):
                continue
            key = full_key[len(prefix) :]
            if key not in {f.alias or n for n, f in cls.model_fields.items()}:
                allowed = ", ".join(sorted(f.alias or n for n, f in cls.model_fields.items()))
                raise ConfigError(full_key, value, f"unknown key; {cls.namespace} keys are {allowed}")
            values[key] = value
        try:
            return cls.model_validate(values, context=context)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "?"
            bad_value = values.get(str(err["loc"][0])) if err["loc"] else None
            msg = "required" if err["type"] == "missing" else err["msg"]
            raise ConfigError(f"{cls.namespace}:{field}", bad_value, msg) from None


def _json_object(key: str, value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        obj = value
    else:
        try:
            obj = json.loads(value)
        except (TypeError, ValueError):
            raise ConfigError(key, value, "a JSON object of string tags") from None
    if not isinstance(obj, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in obj.items()
    ):
        raise ConfigError(key, value, "a JSON object of string tags")
    return obj


class DataSettings(_Settings):
    """Settings of ``trading-data`` — the single source of truth for environment-wide values."""

    namespace: ClassVar[str] = "trading-data"

    environment: str
    primary_region: str = "us-east-1"
    secondary_region: str = "us-east-2"
    engine_version: str = "16.6"
    instance_class: str = "db.r6g.large"
    instances_per_region: int = 1
    protect_data: bool | None = None
    rto_seconds: int = 900
    rpo_seconds: int = 60
    owner: str
    cost_center: str
    tags: dict[str, str] = {}

    @field_validator("environment")
    @classmethod
    def _environment(cls, v: str, info: Any) -> str:
        stack = (info.context or {}).get("stack")
        return check_environment(f"{cls.namespace}:environment", v, stack, v if stack else None)

    @field_validator("primary_region")
    @classmethod
    def _primary(cls, v: str) -> str:
        return check_region(f"{cls.namespace}:primaryRegion", v)

    @field_validator("secondary_region")
    @classmethod
    def _secondary(cls, v: str) -> str:
        return check_region(f"{cls.namespace}:secondaryRegion", v)

    @field_validator("engine_version")
    @classmethod
    def _engine(cls, v: str) -> str:
        m = ENGINE_VERSION_PATTERN.match(v)
        if not m or int(m.group(1)) < MIN_ENGINE_MAJOR:
            raise ConfigError(
                f"{cls.namespace}:engineVersion",
                v,
                f"Aurora PostgreSQL <major>.<minor> with major >= {MIN_ENGINE_MAJOR} (e.g. 16.6)",
            )
        return v

    @field_validator("instance_class")
    @classmethod
    def _instance_class(cls, v: str) -> str:
        if not INSTANCE_CLASS_PATTERN.match(v):
            kind = "burstable" if v.startswith("db.t") else "not memory-optimised"
            raise ConfigError(
                f"{cls.namespace}:instanceClass",
                v,
                f"{kind}; memory-optimised db.r*/db.x* classes only (e.g. db.r6g.large)",
            )
        return v

    @field_validator("instances_per_region")
    @classmethod
    def _instances(cls, v: int) -> int:
        if not 1 <= v <= 15:
            raise ConfigError(f"{cls.namespace}:instancesPerRegion", v, "an integer from 1 to 15")
        return v

    @field_validator("rto_seconds", "rpo_seconds")
    @classmethod
    def _positive(cls, v: int, info: Any) -> int:
        if v <= 0:
            raise ConfigError(f"{cls.namespace}:{to_camel(info.field_name)}", v, "a positive integer")
        return v

    @field_validator("owner", "cost_center")
    @classmethod
    def _tag_value(cls, v: str, info: Any) -> str:
        if not TAG_VALUE_PATTERN.match(v):
            raise ConfigError(
                f"{cls.namespace}:{to_camel(info.field_name)}",
                v,
                "1-256 characters of letters, digits, spaces and _.:/=+-@",
            )
        return v

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, v: Any) -> dict[str, str]:
        key = f"{cls.namespace}:tags"
        tags = _json_object(key, v)
        clash = sorted(RESERVED_TAG_KEYS & set(tags))
        if clash:
            raise ConfigError(key, v, f"extra tags only; {', '.join(clash)} are set by the product")
        for value in tags.values():
            if not TAG_VALUE_PATTERN.match(value):
                raise ConfigError(key, v, "tag values of 1-256 letters, digits, spaces and _.:/=+-@")
        return tags

    @model_validator(mode="after")
    def _regions_differ(self) -> DataSettings:
        if self.primary_region == self.secondary_region:
            raise ConfigError(
                f"{self.namespace}:secondaryRegion",
                self.secondary_region,
                f"a region other than primaryRegion ({self.primary_region})",
            )
        return self

    @property
    def regions(self) -> tuple[str, str]:
        """Primary first, then secondary."""
        return (self.primary_region, self.secondary_region)

    @property
    def protected(self) -> bool:
        """Whether stateful resources get ``protect``/``retain_on_delete`` (default: prod only)."""
        if self.protect_data is None:
            return self.environment == "prod"
        return self.protect_data


def load_settings(cls: type[_Settings], **context: Any) -> Any:
    """Parse the running program's config into ``cls`` (call at the top of ``__main__.py``)."""
    import pulumi

    from shared._pulumi_internals import all_config

    return cls.parse(all_config(), stack=pulumi.get_stack(), **context)
