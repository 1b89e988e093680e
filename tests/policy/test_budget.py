"""The RTO/RPO budget (SPEC S6) on fixture documents with known values: exact numbers."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from shared.plan.summary import render_budget, render_summary
from shared.policy.budget import StoreRpo, budget_findings, compute_budget
from tests.policy.fixtures import data_document, edge_document

S3_ADVISORY = {
    "rule": "rpo-budget-documents",
    "severity": "advisory",
    "urn": "urn:pulumi:dev::trading-data::aws:s3/bucketReplicationConfig:BucketReplicationConfig::"
    "replication-us-east-2",
    "message": "worst-case RPO of s3 is 900 s (replication time control 15 min), over rpoSeconds 60 s",
}
ORCHESTRATOR_URN = "urn:pulumi:dev::trading-edge::aws:lambda/function:Function::orchestrator"


def test_default_fixture_budget() -> None:
    budget = compute_budget([data_document(), edge_document()])
    assert (budget.rto_target, budget.rpo_target, budget.edge_planned) == (900, 60, True)
    assert budget.detection_seconds == 90  # 30 s x 3
    assert budget.alarm_evaluation_seconds == 180  # 3 x 60 s
    assert budget.orchestrator_seconds == 300
    assert budget.dns_ttl_seconds == 60
    assert budget.rto_reads_seconds == 150  # 90 + 60
    assert budget.rto_writes_seconds == 480  # max(180 + 300, 90 + 60)
    assert budget.rpo == (
        StoreRpo(
            "aurora",
            30.0,
            "AuroraGlobalDBReplicationLag alarm threshold 30000 ms (aurora-lag-use2)",
            "urn:pulumi:dev::trading-edge::aws:cloudwatch/metricAlarm:MetricAlarm::aurora-lag-use2",
        ),
        StoreRpo(
            "dynamodb",
            45.0,
            "ReplicationLatency alarm threshold 45000 ms (dynamodb-lag-use2)",
            "urn:pulumi:dev::trading-edge::aws:cloudwatch/metricAlarm:MetricAlarm::dynamodb-lag-use2",
        ),
        StoreRpo("s3", 900, "replication time control 15 min", S3_ADVISORY["urn"]),
    )
    assert budget.sources == {
        "detection": "30 s x 3 (health-us-east-1)",
        "alarm": "3 x 60 s (canary-primary-use2)",
        "orchestrator": "timeout of orchestrator",
        "dns": "alias records follow API Gateway's 60 s TTL",
    }
    # S3 cannot beat RTC's 15 minutes: visible, advisory
    assert budget_findings(budget) == [S3_ADVISORY]


@pytest.mark.parametrize(
    ("edge", "detection", "alarm", "orchestrator", "reads", "writes"),
    [
        (dict(interval=10, threshold=2), 20, 180, 300, 80, 480),
        (dict(primary_down_children=(("a", 5, 120), ("b", 2, 60))), 90, 600, 300, 150, 900),
        (dict(orchestrator_timeout=900), 90, 180, 900, 150, 1080),
        (dict(interval=10, threshold=1, primary_down_children=(("a", 1, 10),)), 10, 10, 300, 70, 310),
        # DNS is the longer path when the orchestrator is quick
        (
            dict(interval=30, threshold=10, orchestrator_timeout=30, primary_down_children=(("a", 1, 60),)),
            300,
            60,
            30,
            360,
            360,
        ),
    ],
)
def test_budget_steps_table(
    edge: dict[str, Any], detection: int, alarm: int, orchestrator: int, reads: int, writes: int
) -> None:
    budget = compute_budget([data_document(), edge_document(**edge)])
    assert (
        budget.detection_seconds,
        budget.alarm_evaluation_seconds,
        budget.orchestrator_seconds,
        budget.rto_reads_seconds,
        budget.rto_writes_seconds,
    ) == (detection, alarm, orchestrator, reads, writes)


def test_an_alarm_on_health_check_status_waits_for_detection() -> None:
    edge = edge_document(primary_down_children=(("hc-primary", 1, 60),))
    alarm = next(r for r in edge["resources"] if r["name"] == "hc-primary")
    alarm["inputs"].update(namespace="AWS/Route53", metricName="HealthCheckStatus")
    budget = compute_budget([data_document(), edge])
    assert (budget.detection_seconds, budget.alarm_evaluation_seconds) == (90, 60)
    assert budget.rto_writes_seconds == 450  # (90 + 60) + 300


def test_rto_over_target_is_a_mandatory_finding() -> None:
    budget = compute_budget([data_document(rto=600), edge_document(orchestrator_timeout=900)])
    assert [f for f in budget_findings(budget) if f["rule"] == "rto-budget"] == [
        {
            "rule": "rto-budget",
            "severity": "mandatory",
            "urn": ORCHESTRATOR_URN,
            "message": "worst-case RTO for writes is 1080 s, over rtoSeconds 600 s",
        }
    ]


def test_rto_for_reads_over_a_tight_target() -> None:
    budget = compute_budget([data_document(rto=120), edge_document()])
    assert [f["message"] for f in budget_findings(budget) if f["rule"] == "rto-budget"] == [
        "worst-case RTO for reads is 150 s, over rtoSeconds 120 s",
        "worst-case RTO for writes is 480 s, over rtoSeconds 120 s",
    ]


def test_rpo_over_target_and_unbounded_are_mandatory() -> None:
    budget = compute_budget([data_document(), edge_document(aurora_lag_ms=120000, dynamodb_lag_ms=None)])
    assert [f for f in budget_findings(budget) if f["rule"] == "rpo-budget"] == [
        {
            "rule": "rpo-budget",
            "severity": "mandatory",
            "urn": "urn:pulumi:dev::trading-edge::aws:cloudwatch/metricAlarm:MetricAlarm::aurora-lag-use2",
            "message": "worst-case RPO of aurora is 120 s (AuroraGlobalDBReplicationLag alarm threshold "
            "120000 ms (aurora-lag-use2)), over rpoSeconds 60 s",
        },
        {
            "rule": "rpo-budget",
            "severity": "mandatory",
            "urn": "",
            "message": "RPO of dynamodb is unbounded: no replication-lag alarm bounds it",
        },
    ]


def test_rpo_within_target_when_s3_target_is_loose() -> None:
    budget = compute_budget([data_document(rpo=900), edge_document()])
    assert budget_findings(budget) == []


def test_no_orchestrator_makes_write_rto_unbounded() -> None:
    edge = edge_document()
    edge["resources"] = [r for r in edge["resources"] if r["type"] != "aws:lambda/function:Function"]
    budget = compute_budget([data_document(), edge])
    assert budget.orchestrator_seconds is None
    assert budget.rto_writes_seconds is None
    assert budget.rto_reads_seconds == 150
    assert [f["message"] for f in budget_findings(budget) if f["rule"] == "rto-budget"] == [
        "RTO for writes is unbounded: no failover orchestrator in the edge plan"
    ]


def test_primary_down_composite_found_without_the_contract_output() -> None:
    # Fallback: a composite in the orchestrator's region whose action topic the orchestrator
    # subscribes to. Here the orchestrator subscribes to the secondary topic as well.
    edge = edge_document(primary_down_children=(("a", 4, 60),))
    edge["outputs"] = {}
    sub = copy.deepcopy(next(r for r in edge["resources"] if r["name"] == "orchestrator-subscription"))
    sub["name"] = "local"
    sub["urn"] += "-local"
    sub["region"] = "us-east-2"
    sub["inputs"]["topic"] = "arn:aws:sns:us-east-2:123456789012:trading-dev-events-use2"
    edge["resources"].append(sub)
    assert compute_budget([data_document(), edge]).alarm_evaluation_seconds == 240


def test_budget_without_the_edge_plan_computes_nothing_it_would_invent() -> None:
    budget = compute_budget([data_document()])
    assert budget.edge_planned is False
    assert (budget.detection_seconds, budget.orchestrator_seconds, budget.rto_writes_seconds) == (
        None,
        None,
        None,
    )
    assert [s.seconds for s in budget.rpo] == [None, None, 900]
    assert budget_findings(budget) == [S3_ADVISORY]  # S3 is judged on the data plan alone
    assert render_budget(budget) == [
        "### RTO/RPO budget",
        "",
        "- The edge plan is absent (trading-edge not built yet): detection, alarm evaluation, "
        "orchestrator bound and RTO are not computed.",
        "",
        "| store | worst-case RPO | how | against target |",
        "|---|---|---|---|",
        "| aurora | not computed | edge plan absent (its replication-lag alarm is not built) | not judged |",
        "| dynamodb | not computed | edge plan absent (its replication-lag alarm is not built) "
        "| not judged |",
        "| s3 | 900 s | replication time control 15 min | **over** target 60 s |",
        "",
    ]


def test_summary_shows_the_budget_against_targets() -> None:
    summary = render_summary({"dev": [data_document(), edge_document(failover_mode="manual")]})
    budget_block = summary.split("### RTO/RPO budget\n\n", 1)[1].split("\nPolicy:", 1)[0]
    assert budget_block.splitlines() == [
        "| step | seconds | how |",
        "|---|---|---|",
        "| detection (interval x failure threshold) | 90 s | 30 s x 3 (health-us-east-1) |",
        "| alarm evaluation (primary-down composite) | 180 s | 3 x 60 s (canary-primary-use2) |",
        "| orchestrator bound | 300 s | timeout of orchestrator |",
        "| DNS TTL | 60 s | alias records follow API Gateway's 60 s TTL |",
        "",
        "| objective | worst case | against target |",
        "|---|---|---|",
        "| RTO reads (detection + DNS) | 150 s | within target 900 s |",
        "| RTO writes (max(alarms + orchestrator, detection + DNS)) | 480 s | within target 900 s |",
        "| RPO aurora (AuroraGlobalDBReplicationLag alarm threshold 30000 ms (aurora-lag-use2)) | 30 s "
        "| within target 60 s |",
        "| RPO dynamodb (ReplicationLatency alarm threshold 45000 ms (dynamodb-lag-use2)) | 45 s "
        "| within target 60 s |",
        "| RPO s3 (replication time control 15 min) | 900 s | **over** target 60 s (advisory) |",
        "",
        "- failoverMode is manual: writes also wait for an operator to invoke the orchestrator.",
        "",
    ]
