"""Settings of ``trading-data`` (SPEC §4 config keys), the environment's source of truth."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import field_validator, model_validator
from pydantic.alias_generators import to_camel

from shared.errors import ConfigError
from shared.settings.base import (
    RESERVED_TAG_KEYS,
    TAG_KEY_PATTERN,
    TAG_VALUE_PATTERN,
    _json_object,
    _Settings,
    check_environment,
    check_region,
    config_bool,
    config_int,
)

# No leading zeros: "016.6" names no release.
ENGINE_VERSION_PATTERN = re.compile(r"^([1-9]\d*)\.(0|[1-9]\d*)$")
MIN_ENGINE_MAJOR = 15
#: Majors Aurora PostgreSQL ships with global database support; a typo such as "61.6" would
#: otherwise plan an "aurora-postgresql61" parameter group that AWS refuses at deploy time.
#: Add a major here when AWS releases it.
MAX_ENGINE_MAJOR = 17
# Memory-optimised classes only (r = memory, x = extra memory); burstable (t) and general purpose
# (m) classes are not supported members of a production global database.
INSTANCE_CLASS_PATTERN = re.compile(r"^db\.(r\d+[a-z]*|x\d+[a-z]*)\.(large|\d*xlarge|metal)$")
#: Memory-optimised families Aurora PostgreSQL 15+ offers (older r3/r4 and RDS-only families such as
#: r5b or x1 match the pattern but AWS refuses them for an Aurora instance at deploy time).
AURORA_POSTGRESQL_FAMILIES = ("r5", "r6g", "r6gd", "r6i", "r6id", "r7g", "r7i", "r8g", "r8gd", "x2g")


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
    tags: dict[str, str] = {}  # noqa: RUF012 (pydantic copies defaults)

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
        m = ENGINE_VERSION_PATTERN.fullmatch(v)
        if not m or not MIN_ENGINE_MAJOR <= int(m.group(1)) <= MAX_ENGINE_MAJOR:
            raise ConfigError(
                f"{cls.namespace}:engineVersion",
                v,
                f"Aurora PostgreSQL <major>.<minor> with major >= {MIN_ENGINE_MAJOR} "
                f"(known up to {MAX_ENGINE_MAJOR}; e.g. 16.6)",
            )
        return v

    @field_validator("instance_class")
    @classmethod
    def _instance_class(cls, v: str) -> str:
        if not INSTANCE_CLASS_PATTERN.fullmatch(v):
            kind = "burstable" if v.startswith("db.t") else "not memory-optimised"
            raise ConfigError(
                f"{cls.namespace}:instanceClass",
                v,
                f"{kind}; memory-optimised db.r*/db.x* classes only (e.g. db.r6g.large)",
            )
        family = v.split(".")[1]
        if family not in AURORA_POSTGRESQL_FAMILIES or v.endswith(".metal"):
            raise ConfigError(
                f"{cls.namespace}:instanceClass",
                v,
                "not an Aurora PostgreSQL class; families "
                + ", ".join(f"db.{f}" for f in AURORA_POSTGRESQL_FAMILIES)
                + " in sizes large..48xlarge",
            )
        return v

    @field_validator("instances_per_region", mode="before")
    @classmethod
    def _instances(cls, v: Any) -> int:
        key, allowed = f"{cls.namespace}:instancesPerRegion", "an integer from 1 to 15"
        if not 1 <= (n := config_int(key, v, allowed)) <= 15:
            raise ConfigError(key, v, allowed)
        return n

    @field_validator("rto_seconds", "rpo_seconds", mode="before")
    @classmethod
    def _positive(cls, v: Any, info: Any) -> int:
        key, allowed = f"{cls.namespace}:{to_camel(info.field_name)}", "a positive integer"
        if (n := config_int(key, v, allowed)) <= 0:
            raise ConfigError(key, v, allowed)
        return n

    @field_validator("protect_data", mode="before")
    @classmethod
    def _protect(cls, v: Any) -> bool:
        return config_bool(f"{cls.namespace}:protectData", v)

    @field_validator("owner", "cost_center")
    @classmethod
    def _tag_value(cls, v: str, info: Any) -> str:
        if not TAG_VALUE_PATTERN.fullmatch(v):
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
        for tag_key in tags:
            if not TAG_KEY_PATTERN.fullmatch(tag_key):
                raise ConfigError(
                    key, v, f"tag key {tag_key!r}: 1-128 letters, digits, spaces and _.:/=+-@, not aws:*"
                )
        for value in tags.values():
            if not TAG_VALUE_PATTERN.fullmatch(value):
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
