"""S1 for trading-region: bad config stops the program with one line naming the key."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from shared.errors import ConfigError
from shared.settings.region import LOG_RETENTION_DAYS, RegionSettings, parse_region_settings
from tests.planning import REPO

STACK = "dev-us-east-2"
BASE = {"trading-region:environment": "dev", "aws:region": "us-east-2"}
RETENTIONS = ", ".join(str(d) for d in LOG_RETENTION_DAYS)

BAD_CONFIG = [
    # (case, overrides, key named in the error, exact "allowed" part of the message)
    ("missing-region", {"aws:region": None}, "aws:region", "required: the region of this stack (SPEC R1)"),
    ("unknown-region", {"aws:region": "us-east-9"}, "aws:region", "one of ap-northeast-1, ap-northeast-2"),
    (
        "stack-other-region",
        {"aws:region": "us-east-1"},
        "trading-region:environment",
        "must match the stack: stack 'dev-us-east-2' expects 'dev-us-east-1'",
    ),
    (
        "stack-other-environment",
        {"trading-region:environment": "prod"},
        "trading-region:environment",
        "must match the stack: stack 'dev-us-east-2' expects 'prod-us-east-2'",
    ),
    (
        "environment-pattern",
        {"trading-region:environment": "Dev"},
        "trading-region:environment",
        "lower-case letter first, then 1-11 of [a-z0-9-] (^[a-z][a-z0-9-]{1,11}$)",
    ),
    ("environment-missing", {"trading-region:environment": None}, "trading-region:environment", "required"),
    (
        "unknown-key",
        {"trading-region:apiTimeout": "10"},
        "trading-region:apiTimeout",
        "unknown key; trading-region keys are apiTimeoutSeconds, certificateDomain, dataStack, domainName, "
        "environment, hostedZoneId, lambdaArchitecture, lambdaRuntime, logRetentionDays, "
        "manageApiGatewayAccount, processorTimeoutSeconds, throttleBurstLimit, throttleRateLimit",
    ),
    (
        "data-stack-other-project",
        {"trading-region:dataStack": "organization/trading-edge/dev"},
        "trading-region:dataStack",
        "<org>/trading-data/dev (the data stack of this environment)",
    ),
    (
        "data-stack-other-environment",
        {"trading-region:dataStack": "organization/trading-data/prod"},
        "trading-region:dataStack",
        "<org>/trading-data/dev (the data stack of this environment)",
    ),
    (
        "data-stack-short-name",
        {"trading-region:dataStack": "dev"},
        "trading-region:dataStack",
        "<org>/trading-data/dev (the data stack of this environment)",
    ),
    (
        "runtime-deprecated",
        {"trading-region:lambdaRuntime": "python3.9"},
        "trading-region:lambdaRuntime",
        "is a deprecated Lambda Python runtime; allowed: python3.12, python3.13, python3.14",
    ),
    (
        "runtime-unknown",
        {"trading-region:lambdaRuntime": "nodejs22.x"},
        "trading-region:lambdaRuntime",
        "is not a supported Lambda Python runtime; allowed: python3.12, python3.13, python3.14",
    ),
    (
        "architecture",
        {"trading-region:lambdaArchitecture": "aarch64"},
        "trading-region:lambdaArchitecture",
        "one of arm64, x86_64",
    ),
    (
        "api-timeout-over-29",
        {"trading-region:apiTimeoutSeconds": "30"},
        "trading-region:apiTimeoutSeconds",
        "1-29 seconds (API Gateway's integration limit is 29 s)",
    ),
    (
        "api-timeout-zero",
        {"trading-region:apiTimeoutSeconds": "0"},
        "trading-region:apiTimeoutSeconds",
        "1-29 seconds (API Gateway's integration limit is 29 s)",
    ),
    (
        "api-timeout-text",
        {"trading-region:apiTimeoutSeconds": "fast"},
        "trading-region:apiTimeoutSeconds",
        "Input should be a valid integer, unable to parse string as an integer",
    ),
    (
        "processor-timeout-short",
        {"trading-region:processorTimeoutSeconds": "120"},
        "trading-region:processorTimeoutSeconds",
        "300-900 seconds (a settlement batch needs at least 300 s; Lambda allows at most 900 s)",
    ),
    (
        "processor-timeout-over-lambda",
        {"trading-region:processorTimeoutSeconds": "901"},
        "trading-region:processorTimeoutSeconds",
        "300-900 seconds (a settlement batch needs at least 300 s; Lambda allows at most 900 s)",
    ),
    (
        "rate-zero",
        {"trading-region:throttleRateLimit": "0"},
        "trading-region:throttleRateLimit",
        "a positive number",
    ),
    (
        "burst-negative",
        {"trading-region:throttleBurstLimit": "-1"},
        "trading-region:throttleBurstLimit",
        "a positive integer",
    ),
    (
        "retention-not-cloudwatch",
        {"trading-region:logRetentionDays": "10"},
        "trading-region:logRetentionDays",
        f"a CloudWatch Logs retention: one of {RETENTIONS}",
    ),
    (
        "retention-never-expire",
        {"trading-region:logRetentionDays": "0"},
        "trading-region:logRetentionDays",
        f"a CloudWatch Logs retention: one of {RETENTIONS}",
    ),
    (
        "manage-account-not-bool",
        {"trading-region:manageApiGatewayAccount": "sometimes"},
        "trading-region:manageApiGatewayAccount",
        "Input should be a valid boolean, unable to interpret input",
    ),
    (
        "domain-upper-case",
        {"trading-region:domainName": "API.Example.com"},
        "trading-region:domainName",
        "a lower-case DNS name such as api.trading.example.com",
    ),
    (
        "domain-single-label",
        {"trading-region:domainName": "localhost"},
        "trading-region:domainName",
        "a lower-case DNS name such as api.trading.example.com",
    ),
    (
        "certificate-without-domain",
        {"trading-region:certificateDomain": "api.example.com"},
        "trading-region:certificateDomain",
        "only together with domainName",
    ),
    (
        "zone-without-domain",
        {"trading-region:hostedZoneId": "Z0123456789ABC"},
        "trading-region:hostedZoneId",
        "only together with domainName",
    ),
    (
        "certificate-not-covering",
        {
            "trading-region:domainName": "api.trading.example.com",
            "trading-region:certificateDomain": "*.example.com",
        },
        "trading-region:certificateDomain",
        "must cover domainName api.trading.example.com (the same name or *.<its parent>)",
    ),
    (
        "zone-id-pattern",
        {"trading-region:domainName": "api.example.com", "trading-region:hostedZoneId": "zone-1"},
        "trading-region:hostedZoneId",
        "a Route 53 hosted zone id (Z…)",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "key", "allowed"), [c[1:] for c in BAD_CONFIG], ids=[c[0] for c in BAD_CONFIG]
)
def test_bad_config_names_key_and_allowed_values(overrides, key, allowed):
    raw = {k: v for k, v in {**BASE, **overrides}.items() if v is not None}

    with pytest.raises(ConfigError) as err:
        parse_region_settings(raw, STACK)

    message = str(err.value)
    assert err.value.key == key
    assert message.startswith(f"config {key}=")
    assert allowed in message
    assert "\n" not in message


def test_defaults():
    settings = parse_region_settings(BASE, STACK)

    assert settings.model_dump() == {
        "environment": "dev",
        "data_stack": None,
        "lambda_runtime": "python3.13",
        "lambda_architecture": "arm64",
        "api_timeout_seconds": 15,
        "processor_timeout_seconds": 300,
        "throttle_rate_limit": 100.0,
        "throttle_burst_limit": 200,
        "log_retention_days": 30,
        "manage_api_gateway_account": True,
        "domain_name": None,
        "certificate_domain": None,
        "hosted_zone_id": None,
    }
    assert settings.region == "us-east-2"
    assert settings.data_stack_name == "organization/trading-data/dev"
    assert settings.certificate_name is None
    with pytest.raises(ValidationError):  # frozen
        settings.environment = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("certificate", "expected"),
    [(None, "api.trading.example.com"), ("*.trading.example.com", "*.trading.example.com")],
)
def test_domain_settings(certificate, expected):
    raw = {
        **BASE,
        "trading-region:domainName": "api.trading.example.com",
        "trading-region:hostedZoneId": "Z0123456789ABCDEFGHIJ",
        "trading-region:dataStack": "acme/trading-data/dev",
    }
    if certificate:
        raw["trading-region:certificateDomain"] = certificate

    settings = parse_region_settings(raw, STACK)

    assert settings.certificate_name == expected
    assert settings.data_stack_name == "acme/trading-data/dev"


KEYS = {
    "environment",
    "dataStack",
    "lambdaRuntime",
    "lambdaArchitecture",
    "apiTimeoutSeconds",
    "processorTimeoutSeconds",
    "throttleRateLimit",
    "throttleBurstLimit",
    "logRetentionDays",
    "manageApiGatewayAccount",
}


@pytest.mark.parametrize("stack", ["dev-us-east-1", "dev-us-east-2", "prod-us-east-1", "prod-us-east-2"])
def test_committed_stack_files(stack):
    env, region = stack.split("-", 1)
    doc = yaml.safe_load((REPO / "projects/region" / f"Pulumi.{stack}.yaml").read_text())
    config = doc["config"]

    assert config["aws:region"] == region
    assert config["pulumi:disable-default-providers"] == ["aws"]
    assert {k.split(":", 1)[1] for k in config if k.startswith("trading-region:")} == KEYS
    assert config["trading-region:environment"] == env
    assert config["trading-region:dataStack"] == f"organization/trading-data/{env}"
    raw = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in config.items() if ":" in k}
    assert parse_region_settings(raw, stack).region == region


def test_project_file_points_at_the_root_virtualenv():
    doc = yaml.safe_load((REPO / "projects/region/Pulumi.yaml").read_text())

    assert doc["name"] == "trading-region" == RegionSettings.namespace
    assert doc["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "../../.venv"}}


@pytest.mark.parametrize(
    ("stack", "key", "value", "expected"),
    [
        (
            "dev-us-east-2",
            "trading-region:apiTimeoutSeconds",
            30,
            "config trading-region:apiTimeoutSeconds=30 is not allowed: 1-29 seconds",
        ),
        (
            "dev-us-east-1",
            "aws:region",
            "us-west-2",
            "config trading-region:environment='dev' is not allowed: must match the stack: "
            "stack 'dev-us-east-1' expects 'dev-us-west-2'",
        ),
    ],
)
def test_plan_cli_region_config_error_is_one_line_without_traceback(tmp_path, stack, key, value, expected):
    import os
    import shutil
    import subprocess
    import sys

    repo = tmp_path / "repo"
    for project in ("data", "region"):
        shutil.copytree(
            REPO / "projects" / project,
            repo / "projects" / project,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    stack_file = repo / "projects/region" / f"Pulumi.{stack}.yaml"
    doc = yaml.safe_load(stack_file.read_text())
    doc["config"][key] = value
    stack_file.write_text(yaml.safe_dump(doc))

    proc = subprocess.run(
        [sys.executable, "-m", "shared.plan", "--env", "dev", "--repo", str(repo)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=180,
        check=False,
    )

    assert proc.returncode == 2
    err_lines = proc.stderr.strip().splitlines()
    assert len(err_lines) == 1, proc.stderr
    assert err_lines[0].startswith(f"error: {expected}")
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (repo / "build" / "plan" / f"trading-region.{stack}.json").exists()
