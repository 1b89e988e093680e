"""The RTO/RPO budget of an environment, computed from its plan documents (SPEC S6).

Worst-case recovery time, as a sequential sum of bounds the plans fix:

* **detection** — Route 53 marks the primary unhealthy after ``requestInterval × failureThreshold``
  (the slowest health check of the edge plan);
* **alarm evaluation** — the primary-down composite fires when one of its alarms has breached for
  ``evaluationPeriods × period`` (the slowest of them: any one may be the only one that sees the
  outage);
* **orchestrator bound** — the failover function's timeout (the promotion and its bounded wait);
* **DNS caching** — alias records follow their target's TTL: 60 s for API Gateway.

Reads are served by both regions all the time, so reads recover when DNS moves:
``RTO(reads) = detection + DNS``. Writes need the promotion too, which runs in parallel with the
DNS move: the primary-down composite fires (its slowest alarm's evaluation, plus the detection
time for an alarm on Route 53 ``HealthCheckStatus``, which only starts once Route 53 has seen the
failure), then the orchestrator runs to its bound:
``RTO(writes) = max(trigger + orchestrator, detection + DNS)``.
(A planned switchover is not a recovery: there the DNS move follows the orchestrator.)

Worst-case data loss per store is what replication may lag before anyone is told: the threshold
of its replication-lag alarm (Aurora ``AuroraGlobalDBReplicationLag``/``...RPOLag`` and DynamoDB
``ReplicationLatency``, both in milliseconds; the highest threshold when there are several) and,
for S3, the replication-time-control window of its replication rules (15 min).

Targets are ``trading-data:rtoSeconds`` and ``trading-data:rpoSeconds`` of the data plan.
Exceeding one is a mandatory finding (``rto-budget``, ``rpo-budget``). The trade documents in S3
cannot be replicated faster than RTC's 15 minutes, so S3 against ``rpoSeconds`` is reported as
advisory (``rpo-budget-documents``): the order and ledger stores carry the RPO target.
When the edge plan is absent, nothing that depends on it is computed or judged.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.policy.rules import (
    ADVISORY,
    COMPOSITE_ALARM_TYPE,
    HEALTH_CHECK_DEFAULT_INTERVAL,
    HEALTH_CHECK_TYPE,
    LAMBDA_DEFAULT_TIMEOUT_SECONDS,
    MANDATORY,
    METRIC_ALARM_TYPE,
    ROLE_ORCHESTRATOR,
    PlanView,
    ResourceView,
    alarm_metrics,
    alarm_name_of,
    composite_references,
    function_role,
)

DATA_PROJECT = "trading-data"
EDGE_PROJECT = "trading-edge"
RTO_RULE = "rto-budget"
RPO_RULE = "rpo-budget"
RPO_DOCUMENTS_RULE = "rpo-budget-documents"
#: Rule ids of the budget with their severity and what they check (listed in the README).
BUDGET_RULES: dict[str, tuple[str, str]] = {
    RTO_RULE: (MANDATORY, "worst-case RTO for reads and for writes within trading-data:rtoSeconds"),
    RPO_RULE: (MANDATORY, "Aurora and DynamoDB replication-lag bound within trading-data:rpoSeconds"),
    RPO_DOCUMENTS_RULE: (ADVISORY, "S3 replication-time-control window against trading-data:rpoSeconds"),
}
#: Route 53 alias records take their target's TTL; API Gateway regional endpoints use 60 s.
API_GATEWAY_ALIAS_TTL_SECONDS = 60
ROUTE53_DEFAULT_FAILURE_THRESHOLD = 3
CLOUDWATCH_DEFAULT_PERIOD_SECONDS = 60
#: Replication-lag metrics: (namespace, metric name) → seconds per unit of the alarm threshold.
AURORA_LAG_METRICS = {
    ("AWS/RDS", "AuroraGlobalDBReplicationLag"): 0.001,
    ("AWS/RDS", "AuroraGlobalDBRPOLag"): 0.001,
}
DYNAMODB_LAG_METRICS = {("AWS/DynamoDB", "ReplicationLatency"): 0.001}
STORES = ("aurora", "dynamodb", "s3")


@dataclass(frozen=True)
class StoreRpo:
    """Worst-case data loss of one store, or None when nothing bounds it."""

    store: str
    seconds: float | None
    source: str
    urn: str = ""


@dataclass(frozen=True)
class Budget:
    """The computed budget of one environment; None means "not computed" (see ``notes``)."""

    environment: str
    rto_target: int | None
    rpo_target: int | None
    edge_planned: bool
    detection_seconds: int | None = None
    alarm_evaluation_seconds: int | None = None
    orchestrator_seconds: int | None = None
    dns_ttl_seconds: int | None = None
    rto_reads_seconds: int | None = None
    rto_writes_seconds: int | None = None
    rpo: tuple[StoreRpo, ...] = ()
    notes: tuple[str, ...] = ()
    orchestrator_urn: str = ""
    failover_mode: str = ""
    sources: Mapping[str, str] = field(default_factory=dict)


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _target(data: Mapping[str, Any] | None, key: str) -> int | None:
    if data is None:
        return None
    value = _int((data.get("config") or {}).get(f"{DATA_PROJECT}:{key}"))
    return value if value is not None else _int((data.get("outputs") or {}).get(key))


def _alarm_seconds(alarm: ResourceView) -> int:
    periods = _int(alarm.inputs.get("evaluationPeriods")) or 1
    period = _int(alarm.inputs.get("period"))
    if period is None:
        query_periods = [
            _int(((q.get("metric") or {}) if isinstance(q, dict) else {}).get("period"))
            for q in alarm.inputs.get("metricQueries") or []
        ]
        period = max((p for p in query_periods if p), default=CLOUDWATCH_DEFAULT_PERIOD_SECONDS)
    return periods * period


def _detection(edge: PlanView) -> tuple[int | None, str]:
    checks = list(edge.of_type(HEALTH_CHECK_TYPE))
    if not checks:
        return None, "no Route 53 health check in the edge plan"
    worst = max(
        checks,
        key=lambda c: (
            (_int(c.inputs.get("requestInterval")) or HEALTH_CHECK_DEFAULT_INTERVAL)
            * (_int(c.inputs.get("failureThreshold")) or ROUTE53_DEFAULT_FAILURE_THRESHOLD)
        ),
    )
    interval = _int(worst.inputs.get("requestInterval")) or HEALTH_CHECK_DEFAULT_INTERVAL
    threshold = _int(worst.inputs.get("failureThreshold")) or ROUTE53_DEFAULT_FAILURE_THRESHOLD
    return interval * threshold, f"{interval} s x {threshold} ({worst.name})"


def _primary_down_composites(edge: PlanView, orchestrators: list[ResourceView]) -> list[ResourceView]:
    composites = list(edge.of_type(COMPOSITE_ALARM_TYPE))
    contract_arn = (edge.document.get("outputs") or {}).get("primaryDownAlarmArn")
    if isinstance(contract_arn, str) and contract_arn:
        named = [c for c in composites if c.inputs.get("alarmName") == alarm_name_of(contract_arn)]
        if named:
            return named
    # Without the contract output: composites of the orchestrator's region whose actions reach it
    # (directly, or through a topic it subscribes to).
    names = {str(o.inputs.get("name") or o.name) for o in orchestrators}
    regions = {o.region for o in orchestrators}
    subscribed = {
        str(s.inputs.get("topic"))
        for s in edge.of_type("aws:sns/topicSubscription:TopicSubscription")
        if str(s.inputs.get("endpoint", "")).split(":function:", 1)[-1].split(":", 1)[0] in names
    }
    found = []
    for c in composites:
        actions = [str(a) for a in c.inputs.get("alarmActions") or []]
        reaches = any(a in subscribed or a.split(":function:", 1)[-1] in names for a in actions)
        if c.region in regions and reaches:
            found.append(c)
    return found


def _failover_alarms(edge: PlanView, composites: list[ResourceView]) -> list[tuple[int, bool, str]]:
    """``(evaluation seconds, waits for a health check, description)`` of every metric alarm
    under the primary-down composites (nested composites followed)."""
    by_name: dict[str, ResourceView] = {}
    for a in edge.of_type(METRIC_ALARM_TYPE):
        by_name[str(a.inputs.get("name") or a.name)] = a
    for c in edge.of_type(COMPOSITE_ALARM_TYPE):
        by_name[str(c.inputs.get("alarmName") or c.name)] = c
    found: list[tuple[int, bool, str]] = []
    seen: set[str] = set()
    pending = list(composites)
    while pending:
        composite = pending.pop()
        for ref in composite_references(str(composite.inputs.get("alarmRule") or "")):
            name = alarm_name_of(ref)
            if name in seen or name not in by_name:
                continue
            seen.add(name)
            child = by_name[name]
            if child.type == COMPOSITE_ALARM_TYPE:
                pending.append(child)
                continue
            seconds = _alarm_seconds(child)
            periods = _int(child.inputs.get("evaluationPeriods")) or 1
            on_health_check = ("AWS/Route53", "HealthCheckStatus") in alarm_metrics(child)
            found.append((seconds, on_health_check, f"{periods} x {seconds // periods} s ({name})"))
    return found


def _dns_ttl(edge: PlanView) -> tuple[int, str]:
    records = list(edge.of_type("aws:route53/record:Record"))
    ttls = [_int(r.inputs.get("ttl")) for r in records if not r.inputs.get("aliases")]
    plain = [t for t in ttls if t]
    if plain and max(plain) > API_GATEWAY_ALIAS_TTL_SECONDS:
        return max(plain), "record TTL"
    if records:
        return API_GATEWAY_ALIAS_TTL_SECONDS, "alias records follow API Gateway's 60 s TTL"
    return API_GATEWAY_ALIAS_TTL_SECONDS, "no failover records (no domain); API Gateway's 60 s TTL"


def _lag_rpo(edge: PlanView, store: str, metrics: Mapping[tuple[str, str], float]) -> StoreRpo:
    bounds: list[tuple[float, ResourceView, str, float]] = []
    for alarm in edge.of_type(METRIC_ALARM_TYPE):
        if not str(alarm.inputs.get("comparisonOperator", "")).startswith("GreaterThan"):
            continue
        threshold = alarm.inputs.get("threshold")
        for namespace, name in alarm_metrics(alarm):
            if (namespace, name) in metrics and isinstance(threshold, int | float):
                bounds.append((threshold * metrics[(namespace, name)], alarm, name, threshold))
    if not bounds:
        return StoreRpo(store, None, "no replication-lag alarm bounds it")
    seconds, worst, metric_name, limit = max(bounds, key=lambda b: b[0])
    return StoreRpo(store, seconds, f"{metric_name} alarm threshold {limit:g} ms ({worst.name})", worst.urn)


def _s3_rpo(data: PlanView | None) -> StoreRpo:
    if data is None:
        return StoreRpo("s3", None, "data plan absent")
    windows = []
    for config in data.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig"):
        for rule in config.inputs.get("rules") or []:
            rtc = (rule.get("destination") or {}).get("replicationTime") or {}
            minutes = _int((rtc.get("time") or {}).get("minutes"))
            if rtc.get("status") == "Enabled" and minutes:
                windows.append((minutes * 60, config.urn))
            else:
                return StoreRpo("s3", None, f"rule {rule.get('id', '?')} has no replication time control")
    if not windows:
        return StoreRpo("s3", None, "no replication configuration in the data plan")
    seconds, urn = max(windows)
    return StoreRpo("s3", seconds, f"replication time control {seconds // 60} min", urn)


def compute_budget(documents: Iterable[Mapping[str, Any]]) -> Budget:
    """The budget of one environment from its plan documents (data, regions, edge)."""
    docs = list(documents)
    data_doc = next((d for d in docs if d.get("project") == DATA_PROJECT), None)
    edge_doc = next((d for d in docs if d.get("project") == EDGE_PROJECT), None)
    data = PlanView(data_doc) if data_doc is not None else None
    environment = (data or (PlanView(edge_doc) if edge_doc else None) or PlanView({})).environment()
    rto_target, rpo_target = _target(data_doc, "rtoSeconds"), _target(data_doc, "rpoSeconds")
    s3 = _s3_rpo(data)
    if edge_doc is None:
        return Budget(
            environment,
            rto_target,
            rpo_target,
            edge_planned=False,
            rpo=(
                StoreRpo("aurora", None, "edge plan absent (its replication-lag alarm is not built)"),
                StoreRpo("dynamodb", None, "edge plan absent (its replication-lag alarm is not built)"),
                s3,
            ),
            notes=(
                "The edge plan is absent (trading-edge not built yet): detection, alarm evaluation, "
                "orchestrator bound and RTO are not computed.",
            ),
        )
    edge = PlanView(edge_doc)
    orchestrators = [
        f for f in edge.of_type("aws:lambda/function:Function") if function_role(f) == ROLE_ORCHESTRATOR
    ]
    notes: list[str] = []
    detection, detection_src = _detection(edge)
    composites = _primary_down_composites(edge, orchestrators)
    alarms = _failover_alarms(edge, composites)
    alarm_eval: int | None = None
    trigger: int | None = None  # when the primary-down composite fires, counted from the outage
    if not composites:
        alarm_src = "no primary-down composite alarm reaches the orchestrator"
    elif not alarms:
        alarm_src = "no metric alarm feeds the primary-down composite"
    else:
        alarm_eval, _, alarm_src = max(alarms, key=lambda a: a[0])
        # An alarm on HealthCheckStatus only starts counting once Route 53 has seen the failure.
        trigger = max(a[0] + ((detection or 0) if a[1] else 0) for a in alarms)
    orchestrator = None
    orchestrator_urn = ""
    if orchestrators:
        slowest = max(
            orchestrators, key=lambda f: _int(f.inputs.get("timeout")) or LAMBDA_DEFAULT_TIMEOUT_SECONDS
        )
        orchestrator = _int(slowest.inputs.get("timeout")) or LAMBDA_DEFAULT_TIMEOUT_SECONDS
        orchestrator_urn = slowest.urn
        orchestrator_src = f"timeout of {slowest.name}"
    else:
        orchestrator_src = "no failover orchestrator in the edge plan"
    dns, dns_src = _dns_ttl(edge)
    reads = detection + dns if detection is not None else None
    writes = None
    if reads is not None and trigger is not None and orchestrator is not None:
        # Promotion (trigger, then the orchestrator) and the DNS move (detection, then the TTL)
        # run in parallel; writes succeed in the secondary once both are done.
        writes = max(trigger + orchestrator, reads)
    mode = str(edge.config.get(f"{EDGE_PROJECT}:failoverMode", "automatic"))
    if mode == "manual":
        notes.append("failoverMode is manual: writes also wait for an operator to invoke the orchestrator.")
    return Budget(
        environment,
        rto_target,
        rpo_target,
        edge_planned=True,
        detection_seconds=detection,
        alarm_evaluation_seconds=alarm_eval,
        orchestrator_seconds=orchestrator,
        dns_ttl_seconds=dns,
        rto_reads_seconds=reads,
        rto_writes_seconds=writes,
        rpo=(
            _lag_rpo(edge, "aurora", AURORA_LAG_METRICS),
            _lag_rpo(edge, "dynamodb", DYNAMODB_LAG_METRICS),
            s3,
        ),
        notes=tuple(notes),
        orchestrator_urn=orchestrator_urn,
        failover_mode=mode,
        sources={
            "detection": detection_src,
            "alarm": alarm_src,
            "orchestrator": orchestrator_src,
            "dns": dns_src,
        },
    )


def _finding(rule: str, urn: str, message: str) -> dict[str, str]:
    return {"rule": rule, "severity": BUDGET_RULES[rule][0], "urn": urn, "message": message}


def budget_findings(budget: Budget) -> list[dict[str, str]]:
    """Findings of the budget against its targets; without the edge plan only S3 is judged."""
    findings: list[dict[str, str]] = []
    if budget.rto_target is not None and budget.edge_planned:
        for what, value in (("reads", budget.rto_reads_seconds), ("writes", budget.rto_writes_seconds)):
            if value is None:
                missing = [
                    k for k in ("detection", "alarm", "orchestrator") if "no " in budget.sources.get(k, "")
                ]
                reasons = "; ".join(budget.sources[k] for k in missing)
                findings.append(
                    _finding(RTO_RULE, budget.orchestrator_urn, f"RTO for {what} is unbounded: {reasons}")
                )
            elif value > budget.rto_target:
                findings.append(
                    _finding(
                        RTO_RULE,
                        budget.orchestrator_urn,
                        f"worst-case RTO for {what} is {value} s, over rtoSeconds {budget.rto_target} s",
                    )
                )
    if budget.rpo_target is not None:
        for store in budget.rpo:
            rule = RPO_DOCUMENTS_RULE if store.store == "s3" else RPO_RULE
            if rule == RPO_RULE and not budget.edge_planned:
                continue  # its replication-lag alarm lives in the edge plan
            if store.seconds is None:
                findings.append(
                    _finding(rule, store.urn, f"RPO of {store.store} is unbounded: {store.source}")
                )
            elif store.seconds > budget.rpo_target:
                findings.append(
                    _finding(
                        rule,
                        store.urn,
                        f"worst-case RPO of {store.store} is {_fmt(store.seconds)} s ({store.source}), "
                        f"over rpoSeconds {budget.rpo_target} s",
                    )
                )
    return findings


def _fmt(seconds: float) -> str:
    return str(int(seconds)) if math.isclose(seconds, round(seconds)) else f"{seconds:g}"


def format_seconds(seconds: float | None) -> str:
    """``"630 s"``, or ``"unbounded"`` for None (for the summary)."""
    return "unbounded" if seconds is None else f"{_fmt(seconds)} s"
