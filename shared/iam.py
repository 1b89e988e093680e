"""IAM documents built as data (STYLE 7), shared by every project's roles."""

from __future__ import annotations

from typing import Any

import pulumi

#: The IAM policy language version every document uses.
POLICY_VERSION = "2012-10-17"


def service_trust_policy(service: str, source_account: pulumi.Input[str] | None = None) -> pulumi.Output[str]:
    """A role's trust policy letting ``service`` (e.g. ``lambda.amazonaws.com``) assume it.

    With ``source_account`` the service may assume it only on behalf of that account
    (``aws:SourceAccount``, the confused-deputy guard).
    """
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if source_account is not None:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return pulumi.Output.json_dumps({"Version": POLICY_VERSION, "Statement": [statement]})
