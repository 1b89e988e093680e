"""S4: `python -m shared.plan` writes plan files in the SPEC §4 schema and a summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from shared.plan.schema import PLAN_FILE_SCHEMA
from tests.planning import REPO


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("plan")
    proc = subprocess.run(
        [sys.executable, "-m", "shared.plan", "--env", "dev", "--repo", str(REPO), "--out", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "planned trading-data.dev:" in proc.stdout
    assert "us-east-1=" in proc.stdout and "us-east-2=" in proc.stdout
    return out


def test_data_plan_file_matches_schema_field_by_field(plan_dir: Path):
    doc = json.loads((plan_dir / "trading-data.dev.json").read_text())
    jsonschema.validate(doc, PLAN_FILE_SCHEMA)
    assert doc["project"] == "trading-data"
    assert doc["stack"] == "dev"
    assert doc["config"]["trading-data:environment"] == "dev"
    assert doc["config"]["trading-data:instancesPerRegion"] == "1"
    assert json.loads(doc["config"]["trading-data:tags"]) == {"Application": "order-api"}
    assert doc["config"]["pulumi:disable-default-providers"] == '["aws"]'
    resources = doc["resources"]
    by_name = {r["name"]: r for r in resources}
    # Providers, components and every AWS resource are recorded, in registration order.
    assert resources[0]["type"] == "pulumi:providers:aws"
    provider = by_name["data-aws-use1"]
    assert provider["urn"] == "urn:pulumi:dev::trading-data::pulumi:providers:aws::data-aws-use1"
    assert provider["region"] == "us-east-1" and provider["provider"] == ""
    key = by_name["key-us-east-2-key"]
    assert key["type"] == "aws:kms/key:Key"
    assert key["region"] == "us-east-2"
    assert key["provider"] == "urn:pulumi:dev::trading-data::pulumi:providers:aws::data-aws-use2"
    assert key["parent"].endswith("trading:data:RegionalKey::key-us-east-2")
    assert key["protect"] is False and key["retainOnDelete"] is False
    assert key["ignoreChanges"] == []
    assert key["inputs"]["enableKeyRotation"] is True
    alias = by_name["key-us-east-2-alias"]
    assert key["urn"] in alias["dependencies"]
    component = by_name["network-us-east-1"]
    assert component["type"] == "trading:data:RegionalNetwork" and component["region"] == ""
    assert doc["outputs"]["primaryRegion"] == "us-east-1"
    # The one finding: trade documents replicate within RTC's 15 min, over rpoSeconds (advisory).
    assert [(f["rule"], f["severity"]) for f in doc["policy"]] == [("rpo-budget-documents", "advisory")]


def test_summary_lists_resources_per_region(plan_dir: Path):
    summary = (plan_dir / "SUMMARY.md").read_text()
    assert "| trading-data | dev | us-east-1 |" in summary
    assert "| trading-data | dev | us-east-2 |" in summary
    assert "Policy: 0 mandatory" in summary
    # The RTO/RPO budget (S6): the S3 window is judged from the data plan in every state.
    assert "### RTO/RPO budget" in summary
    assert (
        "| RPO s3 (replication time control 15 min) | 900 s | **over** target 60 s (advisory) |" in summary
        or ("| s3 | 900 s | replication time control 15 min | **over** target 60 s |" in summary)
    )


def test_secrets_are_redacted():
    from shared.plan.monitor import SECRET_SIG, SIG_KEY, to_plain

    wire = {
        "password": {SIG_KEY: SECRET_SIG, "value": "hunter2"},
        "list": [{SIG_KEY: SECRET_SIG, "value": 1}],
    }
    assert to_plain(wire) == {"password": "[secret]", "list": ["[secret]"]}


def test_unmocked_invoke_raises():
    from shared._pulumi_internals import MockCallArgs
    from shared.plan.mocks import PlanMocks, UnmockedInvokeError

    with pytest.raises(UnmockedInvokeError, match="aws:ec2/getAmi:getAmi"):
        PlanMocks().call(MockCallArgs("aws:ec2/getAmi:getAmi", {}, ""))
