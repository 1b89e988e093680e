"""trading-edge config (SPEC §4 keys, S1 errors): defaults, and one exact line per bad value."""

# ruff: noqa: E501 - the expected messages are asserted whole

from __future__ import annotations

import pytest

from shared.errors import ConfigError
from shared.settings.edge import EdgeSettings

NS = "trading-edge"


def parse(**values: str) -> EdgeSettings:
    return EdgeSettings.parse(
        {f"{NS}:environment": "dev", **{f"{NS}:{k}": v for k, v in values.items()}}, stack="dev"
    )


def test_defaults() -> None:
    s = parse()
    assert (
        s.data_stack_name,
        s.region_stack_name(0, "us-east-1"),
        s.region_stack_name(1, "us-east-2"),
        s.health_check_interval,
        s.health_check_failure_threshold,
        s.health_check_regions,
        s.canary_runtime,
        s.failover_mode,
        s.orchestrator_timeout_seconds,
        s.probe_count,
        s.domain_configured,
    ) == (
        "organization/trading-data/dev",
        "organization/trading-region/dev-us-east-1",
        "organization/trading-region/dev-us-east-2",
        30,
        3,
        ("us-east-1", "us-west-2", "eu-west-1"),
        "syn-nodejs-puppeteer-15.0",
        "automatic",
        600,
        3,
        False,
    )


@pytest.mark.parametrize("interval", ["10", "30"])
def test_both_route53_intervals_are_accepted(interval: str) -> None:
    assert parse(healthCheckInterval=interval).health_check_interval == int(interval)


def test_region_stacks_override() -> None:
    s = parse(regionStacks='["acme/trading-region/dev-use1", "acme/trading-region/dev-use2"]')
    assert (s.region_stack_name(0, "us-east-1"), s.region_stack_name(1, "us-east-2")) == (
        "acme/trading-region/dev-use1",
        "acme/trading-region/dev-use2",
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"healthCheckInterval": "20"},
            "config trading-edge:healthCheckInterval=20 is not allowed: 10 or 30 (seconds)",
        ),
        (
            {"healthCheckInterval": "60"},
            "config trading-edge:healthCheckInterval=60 is not allowed: 10 or 30 (seconds)",
        ),
        (
            {"healthCheckFailureThreshold": "0"},
            "config trading-edge:healthCheckFailureThreshold=0 is not allowed: an integer from 1 to 10",
        ),
        (
            {"healthCheckRegions": '["us-east-1", "us-west-2"]'},
            'config trading-edge:healthCheckRegions=\'["us-east-1", "us-west-2"]\' is not allowed: at least 3 '
            "different Route 53 checker regions of ap-northeast-1, ap-southeast-1, ap-southeast-2, eu-west-1, "
            "sa-east-1, us-east-1, us-west-1, us-west-2",
        ),
        (
            {"healthCheckRegions": '["us-east-1", "us-west-2", "us-east-2"]'},
            'config trading-edge:healthCheckRegions=\'["us-east-1", "us-west-2", "us-east-2"]\' is not allowed: '
            "at least 3 different Route 53 checker regions of ap-northeast-1, ap-southeast-1, ap-southeast-2, "
            "eu-west-1, sa-east-1, us-east-1, us-west-1, us-west-2",
        ),
        (
            {"canaryRuntime": "syn-nodejs-puppeteer-7.0"},
            "config trading-edge:canaryRuntime='syn-nodejs-puppeteer-7.0' is not allowed: canaryRuntime "
            "'syn-nodejs-puppeteer-7.0' is a deprecated Node.js Synthetics runtime; allowed: syn-nodejs-puppeteer-15.0",
        ),
        (
            {"canaryRuntime": "syn-python-selenium-5.0"},
            "config trading-edge:canaryRuntime='syn-python-selenium-5.0' is not allowed: canaryRuntime "
            "'syn-python-selenium-5.0' is not a supported Node.js Synthetics runtime; allowed: "
            "syn-nodejs-puppeteer-15.0",
        ),
        (
            {"failoverMode": "auto"},
            "config trading-edge:failoverMode='auto' is not allowed: automatic or manual",
        ),
        (
            {"orchestratorTimeoutSeconds": "299"},
            "config trading-edge:orchestratorTimeoutSeconds=299 is not allowed: an integer from 300 to 900",
        ),
        ({"probeCount": "0"}, "config trading-edge:probeCount=0 is not allowed: an integer from 1 to 10"),
        (
            {"domainName": "api.example.com"},
            "config trading-edge:hostedZoneId=<missing> is not allowed: domainName and hostedZoneId are set together",
        ),
        (
            {"hostedZoneId": "Z123ABC"},
            "config trading-edge:domainName=<missing> is not allowed: domainName and hostedZoneId are set together",
        ),
        (
            {"alertEmail": "oncall"},
            "config trading-edge:alertEmail='oncall' is not allowed: an e-mail address",
        ),
        (
            {"regionStacks": '["dev-us-east-1"]'},
            "config trading-edge:regionStacks='[\"dev-us-east-1\"]' is not allowed: two stack names: the primary "
            "region's stack, then the secondary's",
        ),
        (
            {"healthCheckIntervall": "30"},
            "config trading-edge:healthCheckIntervall='30' is not allowed: unknown key; trading-edge keys are "
            "alertEmail, canaryRuntime, dataStack, domainName, environment, failoverMode, "
            "healthCheckFailureThreshold, healthCheckInterval, healthCheckRegions, hostedZoneId, "
            "orchestratorTimeoutSeconds, probeCount, regionStacks",
        ),
    ],
)
def test_bad_values_are_one_line_naming_key_value_and_allowed(values: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse(**values)
    assert str(error.value) == message


def test_environment_must_match_the_stack() -> None:
    with pytest.raises(ConfigError) as error:
        EdgeSettings.parse({f"{NS}:environment": "dev"}, stack="prod")
    assert str(error.value) == (
        "config trading-edge:environment='dev' is not allowed: must match the stack: stack 'prod' expects 'dev'"
    )
