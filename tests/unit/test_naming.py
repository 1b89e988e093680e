"""S2: one naming function, service limits enforced, environment always in the name."""

from __future__ import annotations

import pytest

from shared.naming import NameError_, physical_name


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        (("dev", "orders"), {"service": "dynamodb"}, "trading-dev-orders"),
        (("dev", "db"), {"region": "us-east-2", "service": "rds"}, "trading-dev-db-use2"),
        (
            ("prod", "documents"),
            {"region": "us-east-1", "service": "s3", "account_id": "123456789012"},
            "trading-prod-documents-use1-123456789012",
        ),
        (("qa-1", "api"), {"region": "eu-west-1", "service": "lambda"}, "trading-qa-1-api-euw1"),
    ],
)
def test_names(args, kwargs, expected):
    assert physical_name(*args, **kwargs) == expected


@pytest.mark.parametrize(
    ("args", "kwargs", "fragment"),
    [
        (("dev", "x" * 60), {"service": "s3", "account_id": "123456789012"}, "limit is 63"),
        (("dev", "x" * 60), {"service": "lambda"}, "limit is 64"),
        (("dev", "Docs"), {"service": "s3", "account_id": "123456789012"}, "lower-case"),
        (("dev", "a--b"), {"service": "rds"}, "single hyphens"),
        (("dev", "docs"), {"service": "s3"}, "needs the account id"),
        (("dev", "x"), {"region": "mars-1"}, "unknown region"),
    ],
)
def test_name_rules(args, kwargs, fragment):
    with pytest.raises(ValueError, match=fragment) as err:
        physical_name(*args, **kwargs)
    assert isinstance(err.value, (NameError_, ValueError))


def test_longest_environment_fits_every_service():
    env = "abcdefghijkl"  # 12 characters, the longest allowed
    assert (
        len(physical_name(env, "documents", region="ap-southeast-2", service="s3", account_id="123456789012"))
        <= 63
    )
    assert len(physical_name(env, "processor", region="ap-southeast-2", service="lambda")) <= 64
    assert len(physical_name(env, "db-secondary", region="ap-southeast-2", service="rds")) <= 63
