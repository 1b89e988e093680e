"""Base of every project's settings: parsing, shared validators, loading (SPEC S1).

A bad value raises :class:`shared.errors.ConfigError` before any resource exists, with one line
naming the key, the value and what is allowed. Unknown keys in the project's namespace are
errors too (a typo in a stack file must not silently fall back to a default).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from shared.errors import ConfigError
from shared.regions import REGION_CODES

# Matched with ``fullmatch``: ``$`` alone would accept a trailing newline ("dev\n").
ENVIRONMENT_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,11}$")
TAG_VALUE_PATTERN = re.compile(r"^[\w .:/=+\-@]{1,256}$")
#: AWS tag keys: 1-128 of the same characters; the ``aws:`` prefix is reserved by AWS.
TAG_KEY_PATTERN = re.compile(r"^(?![aA][wW][sS]:)[\w .:/=+\-@]{1,128}$")
RESERVED_TAG_KEYS = frozenset({"Environment", "Project", "Owner", "CostCenter", "ManagedBy"})


def _allowed_regions() -> str:
    return ", ".join(sorted(REGION_CODES))


def check_environment(key: str, value: str, stack: str | None, expected_stack: str | None) -> str:
    """Validate an environment name and that it matches the stack it is deployed as."""
    if not ENVIRONMENT_PATTERN.fullmatch(value):
        raise ConfigError(
            key, value, "lower-case letter first, then 1-11 of [a-z0-9-] (^[a-z][a-z0-9-]{1,11}$)"
        )
    # The environment sits inside every physical name (trading-<env>-...): RDS identifiers refuse
    # "--", which a trailing "-" would also produce. Caught here, before any resource exists.
    if "--" in value or value.endswith("-"):
        raise ConfigError(key, value, "no '--' and no trailing '-' (RDS identifiers refuse '--')")
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


_INTEGER = re.compile(r"^-?[0-9]+$")


def config_bool(key: str, value: Any) -> bool:
    """``true``/``false`` only, as ``pulumi.Config.get_bool`` reads them (no "yes", "1", "on")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    raise ConfigError(key, value, "true or false")


def config_int(key: str, value: Any, allowed: str) -> int:
    """A whole number written as one (no "1.5", "60.0", "1e3", "true"); ``allowed`` names the range."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    raise ConfigError(key, value, allowed)


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


def load_settings(cls: type[_Settings], **context: Any) -> Any:
    """Parse the running program's config into ``cls`` (call at the top of ``__main__.py``)."""
    import pulumi

    from shared._pulumi_internals import all_config

    return cls.parse(all_config(), stack=pulumi.get_stack(), **context)
