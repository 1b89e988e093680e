"""Orchestrator settings: every variable the Pulumi program sets, and the errors naming them."""

from __future__ import annotations

import json

import pytest
from failover_orchestrator import OrchestratorSettings, SettingsError

GOOD = {
    "TABLE_NAME": "t",
    "PRIMARY_REGION": "us-east-1",
    "SECONDARY_REGION": "us-east-2",
    "REGION_NAME": "us-east-2",
    "GLOBAL_CLUSTER_ID": "g",
    "CLUSTER_ARNS": json.dumps({"us-east-1": "arn:a", "us-east-2": "arn:b"}),
    "HEALTH_URLS": json.dumps({"us-east-1": "https://a/dev/health", "us-east-2": "https://b/dev/health"}),
    "REPORT_TOPIC_ARN": "arn:aws:sns:us-east-2:123456789012:t",
    "TRIGGER_ALARMS": json.dumps(["a"]),
}


def test_defaults() -> None:
    settings = OrchestratorSettings.from_env(GOOD)
    assert (
        settings.failover_mode,
        settings.probe_count,
        settings.probe_interval_seconds,
        settings.wait_timeout_seconds,
        settings.poll_interval_seconds,
        settings.lock_ttl_seconds,
    ) == ("automatic", 3, 5.0, 180.0, 5.0, 900)
    assert settings.other_region("us-east-1") == "us-east-2"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"TABLE_NAME": ""}, "environment variable TABLE_NAME is required and is empty"),
        (
            {"CLUSTER_ARNS": "{"},
            "CLUSTER_ARNS is not JSON: Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1)",
        ),
        ({"CLUSTER_ARNS": "[]"}, "CLUSTER_ARNS must be a JSON dict"),
        ({"HEALTH_URLS": json.dumps({"us-east-1": "x"})}, "HEALTH_URLS lacks an entry for us-east-2"),
        ({"SECONDARY_REGION": "us-east-1"}, "PRIMARY_REGION and SECONDARY_REGION must differ"),
        ({"FAILOVER_MODE": "sometimes"}, "FAILOVER_MODE='sometimes' is not one of automatic, manual"),
        ({"PROBE_COUNT": "0"}, "PROBE_COUNT=0 must be >= 1"),
        ({"WAIT_TIMEOUT_SECONDS": "soon"}, "WAIT_TIMEOUT_SECONDS='soon' must be a non-negative number"),
        ({"WAIT_TIMEOUT_SECONDS": "nan"}, "WAIT_TIMEOUT_SECONDS='nan' must be a non-negative number"),
        ({"PROBE_TIMEOUT_SECONDS": "inf"}, "PROBE_TIMEOUT_SECONDS='inf' must be a non-negative number"),
        ({"PROBE_COUNT": "2.5"}, "PROBE_COUNT='2.5' must be a non-negative integer"),
        ({"PROBE_COUNT": "nan"}, "PROBE_COUNT='nan' must be a non-negative integer"),
        ({"LOCK_TTL_SECONDS": "inf"}, "LOCK_TTL_SECONDS='inf' must be a non-negative integer"),
        ({"REGION_NAME": ""}, "environment variable REGION_NAME (or AWS_REGION) is required"),
    ],
)
def test_bad_settings_name_the_variable(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as error:
        OrchestratorSettings.from_env({**GOOD, **overrides})
    assert str(error.value) == message
