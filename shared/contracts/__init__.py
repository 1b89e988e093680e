"""Contracts between projects (SPEC §2, §4): every cross-stack value is declared here, once.

The producer exports through one function (``export_*``); the consumer reads through one
function (``read_*``) built on :func:`require_output`, never a silent ``get_output``.
"""

from __future__ import annotations

import pulumi

DEFAULT_ORGANIZATION = "organization"


def stack_reference_name(project: str, stack: str, organization: str = DEFAULT_ORGANIZATION) -> str:
    """Fully qualified ``<org>/<project>/<stack>`` reference name."""
    return f"{organization}/{project}/{stack}"


def require_output(ref: pulumi.StackReference, key: str) -> pulumi.Output:
    """Read a required output of another stack; a missing key fails the program."""
    return ref.require_output(key)
