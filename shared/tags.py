"""The one tag set of the product (S3): required keys merged with a stack's extra tags."""

from __future__ import annotations

from collections.abc import Mapping

PROJECT_TAG = "trading-platform"
MANAGED_BY = "pulumi"


def required_tags(environment: str, owner: str, cost_center: str) -> dict[str, str]:
    """Tags every taggable resource must carry."""
    return {
        "Environment": environment,
        "Project": PROJECT_TAG,
        "Owner": owner,
        "CostCenter": cost_center,
        "ManagedBy": MANAGED_BY,
    }


def merge_tags(required: Mapping[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    """Extra tags first, then the required set (the required keys always win)."""
    merged = dict(extra)
    merged.update(required)
    return merged


REQUIRED_TAG_KEYS = frozenset(required_tags("x", "x", "x"))
