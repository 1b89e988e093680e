"""The failover orchestrator (SPEC E7) end to end: the real handler against moto + drill.emulator."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from failover_orchestrator import EventValidationError, OrchestrationError
from order_api.logic import OrderService, WritesFencedError
from order_api.validation import validate_order_request
from trading_runtime.control import ControlRepository
from trading_runtime.orders import OrderRepository

from drill import emulator
from drill.clock import SimulatedClock
from tests.orchestrator.conftest import (
    PRIMARY,
    PRIMARY_ALARM,
    SECONDARY,
    TABLE_NAME,
    World,
    composite_alarm_action,
    sns_alarm,
)

EVERY_STEP = [
    "1-check-writer",
    "2-lock",
    "3-confirm",
    "4-fence",
    "5-promote",
    "6-wait",
    "7-activate",
    "8-handover",
    "9-report",
]


def _with_alarm_arn(event: dict[str, Any], arn: str) -> dict[str, Any]:
    """An SNS alarm notification whose message carries ``arn`` as its AlarmArn."""
    sns = event["Records"][0]["Sns"]
    sns["Message"] = json.dumps({**json.loads(sns["Message"]), "AlarmArn": arn})
    return event


def _order_id(n: int) -> str:
    return str(uuid.UUID(int=n))


def _started(operation: str | None = None) -> list[tuple[str, str, bool]]:
    return [(e.operation, e.to_cluster_arn, e.allow_data_loss) for e in emulator.started(operation)]


def _outcomes(world: World) -> list[str]:
    return [report["outcome"] for report in world.reports()]


# -- the two promotions ---------------------------------------------------------------------
def test_planned_switchover(world: World, invoke: Any) -> None:
    result = invoke({"action": "switchover", "reason": "game day"})

    assert result["outcome"] == "completed"
    assert _started() == [("SwitchoverGlobalCluster", world.cluster_arns[SECONDARY], False)]
    assert world.writer_region() == SECONDARY
    control = world.control()
    assert (control["active_region"], control["state"], control["epoch"]) == (SECONDARY, "active", 2)
    assert "lock_owner" not in control and "lock_expires_at" not in control
    # Planned: the primary is not probed for being down; the target is health-checked.
    assert world.health.hits_of(PRIMARY) == 0
    assert world.health.hits_of(SECONDARY) == 3
    assert [step["step"] for step in result["steps"]] == EVERY_STEP
    assert _outcomes(world) == ["completed"]


@pytest.mark.parametrize(
    "event",
    [sns_alarm(), composite_alarm_action(), {"action": "failover"}],
    ids=["sns-alarm", "composite-alarm-action", "manual"],
)
def test_unplanned_failover_allows_data_loss(world: World, invoke: Any, event: dict[str, Any]) -> None:
    world.health.status[PRIMARY] = 503
    # The primary's RDS is gone too: a switchover would be refused, a failover must not be.
    emulator.set_region_available(PRIMARY, False)

    result = invoke(event)

    assert result["outcome"] == "completed"
    assert _started() == [("FailoverGlobalCluster", world.cluster_arns[SECONDARY], True)]
    assert world.writer_region() == SECONDARY
    assert world.health.hits_of(PRIMARY) == 3  # every confirmation probe failed
    confirm_step = next(step for step in result["steps"] if step["step"] == "3-confirm")
    assert confirm_step["source_probes"] == [503, 503, 503]
    assert confirm_step["target_probes"] == [200, 200, 200]
    control = world.control()
    assert (control["active_region"], control["state"], control["epoch"]) == (SECONDARY, "active", 2)


def test_primary_unreachable_counts_as_down(
    world: World, invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A closed port on 127.0.0.1: connection refused, the way a dead region looks.
    urls = json.loads(world.env()["HEALTH_URLS"])
    urls[PRIMARY] = "http://127.0.0.1:9/us-east-1/health"
    monkeypatch.setenv("HEALTH_URLS", json.dumps(urls))

    result = invoke(sns_alarm())

    assert result["outcome"] == "completed"
    confirm_step = next(step for step in result["steps"] if step["step"] == "3-confirm")
    assert all(str(p).startswith("URLError") for p in confirm_step["source_probes"])


def test_failback_switches_over_to_the_primary_and_hands_orders_back(world: World, invoke: Any) -> None:
    invoke({"action": "switchover"}, request_id="req-1")
    world.put_order(_order_id(7), origin=SECONDARY)

    result = invoke({"action": "failback"}, request_id="req-2")

    assert result["outcome"] == "completed"
    assert _started() == [
        ("SwitchoverGlobalCluster", world.cluster_arns[SECONDARY], False),
        ("SwitchoverGlobalCluster", world.cluster_arns[PRIMARY], False),
    ]
    assert world.writer_region() == PRIMARY
    control = world.control()
    assert (control["active_region"], control["state"], control["epoch"]) == (PRIMARY, "active", 3)
    assert result["handed_over"] == [_order_id(7)]
    assert world.order(_order_id(7))["origin_region"] == PRIMARY


# -- acting once ----------------------------------------------------------------------------
def test_already_writer_is_a_successful_noop(world: World, invoke: Any) -> None:
    invoke({"action": "switchover"}, request_id="req-1")
    world.reports()

    result = invoke({"action": "switchover"}, request_id="req-2")

    assert result["outcome"] == "noop"
    assert result["detail"] == "us-east-2 already holds the writer and is active"
    assert len(_started()) == 1
    assert world.control()["epoch"] == 2
    assert _outcomes(world) == ["noop"]


def test_same_alarm_delivered_twice_acts_once(world: World, invoke: Any) -> None:
    world.health.status[PRIMARY] = 503

    first = invoke(sns_alarm(), request_id="delivery-1")
    second = invoke(sns_alarm(), request_id="delivery-2")

    assert (first["outcome"], second["outcome"]) == ("completed", "noop")
    assert _started() == [("FailoverGlobalCluster", world.cluster_arns[SECONDARY], True)]
    assert world.control()["epoch"] == 2


def test_second_invocation_while_the_lock_is_held_does_nothing(world: World, invoke: Any) -> None:
    world.health.status[PRIMARY] = 503
    during: list[dict[str, Any]] = []

    def second_invocation(event: emulator.GlobalClusterEvent) -> None:
        if event.phase == "started":
            during.append(invoke(sns_alarm(), request_id="concurrent"))

    emulator.add_listener(second_invocation)
    first = invoke(sns_alarm(), request_id="first")

    assert first["outcome"] == "completed"
    assert [r["outcome"] for r in during] == ["locked"]
    assert during[0]["detail"] == "nothing done: the control record is locked by first"
    assert len(_started()) == 1
    assert world.control()["epoch"] == 2


def test_a_retry_of_a_failed_run_resumes_without_promoting_again(world: World) -> None:
    world.health.status[PRIMARY] = 503
    emulator.configure(describes_until_complete=6)
    clock = SimulatedClock()
    impatient = world.orchestrator(clock, wait_timeout_seconds=10.0, poll_interval_seconds=5.0)

    with pytest.raises(OrchestrationError) as failure:
        impatient.run(sns_alarm(), request_id="req-1")
    assert failure.value.step == "6-wait"
    control = world.control()
    assert (control["state"], control["epoch"], "lock_owner" in control) == ("failing_over", 1, False)

    # Lambda's retry: same event, same request id. The primary now answers again (it lost the
    # writer, though): a resumed run must not probe it and refuse.
    world.health.status[PRIMARY] = 200
    retry = world.orchestrator(clock).run(sns_alarm(), request_id="req-1")

    assert retry.outcome == "completed"
    assert len(_started()) == 1
    control = world.control()
    assert (control["active_region"], control["state"], control["epoch"]) == (SECONDARY, "active", 2)


class _Killed(BaseException):
    """Lambda ending the process at its timeout: no ``except Exception`` handler runs."""


def test_a_lock_left_by_a_killed_run_blocks_others_only_until_it_expires(world: World) -> None:
    world.health.status[PRIMARY] = 503
    emulator.configure(describes_until_complete=6)
    clock = SimulatedClock()
    doomed = world.orchestrator(clock, wait_timeout_seconds=100.0, poll_interval_seconds=5.0)
    naps: list[float] = []

    def sleep_until_killed(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) > 3:  # the two probe pauses, one poll, then the timeout hits mid-wait
            raise _Killed
        clock.sleep(seconds)

    doomed._deps.sleep = sleep_until_killed
    with pytest.raises(_Killed):
        doomed.run(sns_alarm(), request_id="killed")
    control = world.control()
    assert (control["state"], control["lock_owner"], control["lock_expires_at"]) == (
        "failing_over",
        "killed",
        Decimal(int(SimulatedClock().now()) + 900),
    )

    # Another event while the lease runs: nothing done, no second promotion.
    early = world.orchestrator(clock).run(sns_alarm(), request_id="other")
    assert (early.outcome, early.detail) == ("locked", "nothing done: the control record is locked by killed")

    # After the lease (LOCK_TTL_SECONDS) the next run takes over and resumes, not restarts.
    clock.advance(900)
    late = world.orchestrator(clock).run(sns_alarm(), request_id="later")
    assert late.outcome == "completed"
    assert [s["step"] for s in late.steps] == [s for s in EVERY_STEP if s != "3-confirm"]
    assert len(_started()) == 1
    control = world.control()
    assert (control["active_region"], control["state"], control["epoch"], "lock_owner" in control) == (
        SECONDARY,
        "active",
        2,
        False,
    )


# -- refusing to act ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("primary_answers", "expected_detail"),
    [
        ([200, 200, 200], "the primary answered 3 of 3 probes: not confirmed down, nothing changed"),
        ([503, 200, 503], "the primary answered 1 of 3 probes: not confirmed down, nothing changed"),
    ],
    ids=["primary-healthy", "primary-flapping"],
)
def test_flapping_alarm_while_the_primary_answers_changes_nothing(
    world: World, invoke: Any, primary_answers: list[int], expected_detail: str
) -> None:
    world.health.sequence[PRIMARY] = list(primary_answers)

    result = invoke(sns_alarm())

    assert result["outcome"] == "refused"
    assert result["detail"] == expected_detail
    assert _started() == []
    control = world.control()
    assert (control["active_region"], control["state"], control["epoch"]) == (PRIMARY, "active", 1)
    assert "lock_owner" not in control
    assert world.writer_region() == PRIMARY
    assert _outcomes(world) == ["refused"]


@pytest.mark.parametrize("event", [sns_alarm(), {"action": "switchover"}], ids=["failover", "switchover"])
def test_a_sick_secondary_refuses_to_take_over(world: World, invoke: Any, event: dict[str, Any]) -> None:
    world.health.status[PRIMARY] = 503
    world.health.status[SECONDARY] = 503

    result = invoke(event)

    assert result["outcome"] == "refused"
    assert result["detail"] == (
        "the target region is not healthy (HTTP 503; HTTP 503; HTTP 503): nothing changed"
    )
    assert _started() == []
    assert world.control()["state"] == "active"
    assert world.writer_region() == PRIMARY


def test_alarm_in_manual_mode_only_reports(
    world: World, invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAILOVER_MODE", "manual")
    world.health.status[PRIMARY] = 503

    result = invoke(sns_alarm())

    assert result["outcome"] == "manual_mode"
    assert _started() == []
    assert world.control()["epoch"] == 1
    assert _outcomes(world) == ["manual_mode"]


@pytest.mark.parametrize(
    ("event", "detail"),
    [
        (sns_alarm(state="OK"), f"alarm {PRIMARY_ALARM} is OK, not ALARM"),
        (
            sns_alarm(name="trading-test-api-5xx-use1"),
            "alarm trading-test-api-5xx-use1 is not a failover trigger",
        ),
        (
            composite_alarm_action(state="INSUFFICIENT_DATA"),
            "alarm trading-test-primary-down-use2 is INSUFFICIENT_DATA, not ALARM",
        ),
    ],
    ids=["ok-state", "not-a-trigger", "insufficient-data"],
)
def test_other_alarms_and_states_are_ignored(
    world: World, invoke: Any, event: dict[str, Any], detail: str
) -> None:
    world.health.status[PRIMARY] = 503

    result = invoke(event)

    assert (result["outcome"], result["detail"]) == ("ignored", detail)
    assert world.reports() == []  # logged only
    assert _started() == []
    assert world.health.hits == []


@pytest.mark.parametrize("action", ["switchover", "failover", "failback"])
def test_dry_run_changes_nothing(world: World, invoke: Any, action: str) -> None:
    world.health.status[PRIMARY] = 503
    world.put_order(_order_id(1), origin=PRIMARY)
    before_control = world.control()
    before_order = world.order(_order_id(1))

    result = invoke({"action": action, "dry_run": True})

    if action == "failback":  # the primary already is the writer
        assert result["outcome"] == "noop"
        assert result["handed_over"] == []
    else:
        assert result["outcome"] == "dry_run"
        verb = "switch over" if action == "switchover" else "fail over"
        assert result["detail"] == (
            f"would fence writes, {verb} trading-test-global to {world.cluster_arns[SECONDARY]}, "
            "make us-east-2 active at epoch 2 and hand over 1 unsettled order(s) of us-east-1"
        )
    assert _started() == []
    assert world.control() == before_control
    assert world.order(_order_id(1)) == before_order


# -- fencing and the hand-over --------------------------------------------------------------
def _place(region: str, client: Any, n: int) -> Any:
    service = OrderService(OrderRepository(client, TABLE_NAME), ControlRepository(client, TABLE_NAME), region)
    request = validate_order_request(
        {
            "client_order_id": f"fence-{region}-{n}",
            "symbol": "ACME",
            "side": "BUY",
            "quantity": 1,
            "limit_price": "10.5",
        }
    )
    return service.place(request)


def test_writes_are_refused_in_both_regions_while_failing_over(world: World, invoke: Any) -> None:
    world.health.status[PRIMARY] = 503
    refusals: dict[str, str] = {}

    def try_writes(event: emulator.GlobalClusterEvent) -> None:
        if event.phase != "started":
            return
        for region in (PRIMARY, SECONDARY):
            try:
                _place(region, world.dynamodb, 1)
            except WritesFencedError as exc:
                refusals[region] = exc.fence.reason

    emulator.add_listener(try_writes)
    invoke(sns_alarm())

    assert refusals == {PRIMARY: "failover_in_progress", SECONDARY: "failover_in_progress"}
    # Afterwards: the new active region writes at the new epoch, the old one is passive.
    placed = _place(SECONDARY, world.dynamodb, 2)
    assert (placed.order.origin_region, placed.order.epoch) == (SECONDARY, 2)
    with pytest.raises(WritesFencedError) as fenced:
        _place(PRIMARY, world.dynamodb, 3)
    assert fenced.value.fence.reason == "region_not_active"


def test_unsettled_orders_of_the_old_primary_are_handed_over_exactly_once(world: World, invoke: Any) -> None:
    world.health.status[PRIMARY] = 503
    for n in (1, 2, 3):
        world.put_order(_order_id(n), origin=PRIMARY)
    world.put_order(_order_id(4), origin=PRIMARY, status="SETTLED")
    world.put_order(_order_id(5), origin=SECONDARY)

    first = invoke(sns_alarm(), request_id="delivery-1")

    assert sorted(first["handed_over"]) == [_order_id(1), _order_id(2), _order_id(3)]
    for n in (1, 2, 3):
        order = world.order(_order_id(n))
        assert (
            order["origin_region"],
            order["handed_over_from"],
            order["handover_epoch"],
            order["status"],
        ) == (
            SECONDARY,
            PRIMARY,
            Decimal(2),
            "ACCEPTED",
        )
    assert world.order(_order_id(4))["origin_region"] == PRIMARY  # settled: left alone
    assert "handed_over_from" not in world.order(_order_id(5))
    snapshot = {n: world.order(_order_id(n)) for n in (1, 2, 3)}

    # A redelivery of the alarm sweeps again and finds nothing left to move ...
    second = invoke(sns_alarm(), request_id="delivery-2")
    assert (second["outcome"], second["handed_over"]) == ("noop", [])
    assert {n: world.order(_order_id(n)) for n in (1, 2, 3)} == snapshot

    # ... but an order that replicated late from the old primary is picked up by that sweep.
    world.put_order(_order_id(6), origin=PRIMARY)
    third = invoke(sns_alarm(), request_id="delivery-3")
    assert third["handed_over"] == [_order_id(6)]


class _SmallPages:
    """The DynamoDB client, with every scan page cut to ``limit`` items (as 1 MB pages would)."""

    def __init__(self, client: Any, limit: int) -> None:
        self._client = client
        self._limit = limit
        self.scans = 0

    def scan(self, **request: Any) -> Any:
        self.scans += 1
        return self._client.scan(**request, Limit=self._limit)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_the_handover_reads_every_scan_page(world: World) -> None:
    world.health.status[PRIMARY] = 503
    for n in range(1, 8):
        world.put_order(_order_id(n), origin=PRIMARY)
    orchestrator = world.orchestrator(SimulatedClock())
    pages = _SmallPages(orchestrator._deps.dynamodb, limit=2)
    orchestrator._handover._client = pages

    outcome = orchestrator.run(sns_alarm(), request_id="paged")

    assert outcome.outcome == "completed"
    assert sorted(outcome.handed_over) == [_order_id(n) for n in range(1, 8)]
    assert pages.scans == 4  # 8 items (7 orders + the control record), 2 a page
    assert {world.order(_order_id(n))["origin_region"] for n in range(1, 8)} == {SECONDARY}


# -- failures: retried, bounded, reported ---------------------------------------------------
class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_kwargs: Any) -> Any:
        yield self._body


def _inject(client: Any, operation: str, errors: list[tuple[int, str]], protocol: str) -> list[str]:
    """Answer the next calls of ``operation`` with ``errors`` (status, code) before moto."""
    from botocore.awsrequest import AWSResponse

    served: list[str] = []

    def respond(**_kwargs: Any) -> Any:
        if not errors:
            return None
        status, code = errors.pop(0)
        served.append(code)
        if protocol == "json":
            body = (
                json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected"})
            ).encode()
            headers = {"x-amzn-RequestId": "injected", "Content-Type": "application/x-amz-json-1.0"}
        else:
            body = (
                f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>injected</Message>"
                "</Error><RequestId>injected</RequestId></ErrorResponse>"
            ).encode()
            headers = {"Content-Type": "text/xml"}
        return AWSResponse("https://injected", status, headers, _Raw(body))

    client.meta.events.register_first(
        f"before-send.{client.meta.service_model.endpoint_prefix}.{operation}", respond
    )
    return served


def test_throttling_and_transient_errors_are_retried(world: World, handler_module: Any, invoke: Any) -> None:
    world.health.status[PRIMARY] = 503
    clients = handler_module._clients
    dynamo_errors = _inject(
        clients.get("dynamodb", SECONDARY),
        "UpdateItem",
        [(400, "ThrottlingException"), (500, "InternalServerError")],
        "json",
    )
    rds_errors = _inject(
        clients.get("rds", SECONDARY),
        "FailoverGlobalCluster",
        [(400, "Throttling"), (503, "ServiceUnavailable")],
        "query",
    )

    result = invoke(sns_alarm())

    assert result["outcome"] == "completed"
    assert dynamo_errors == ["ThrottlingException", "InternalServerError"]
    assert rds_errors == ["Throttling", "ServiceUnavailable"]
    assert _started() == [("FailoverGlobalCluster", world.cluster_arns[SECONDARY], True)]


def test_a_wait_that_runs_out_ends_in_a_failure_report(world: World) -> None:
    world.health.status[PRIMARY] = 503
    emulator.configure(describes_until_complete=None)  # a stuck promotion
    clock = SimulatedClock()

    with pytest.raises(OrchestrationError) as failure:
        world.orchestrator(clock, wait_timeout_seconds=180.0, poll_interval_seconds=5.0).run(
            sns_alarm(), request_id="req-1"
        )

    assert failure.value.step == "6-wait"
    # 37 polls, 5 s apart: the last at the bound itself, none after it.
    assert clock.elapsed == 180.0
    assert clock.sleeps.count(5.0) == 36
    reports = world.reports()
    assert [r["outcome"] for r in reports] == ["failed"]
    assert reports[0]["detail"].startswith(
        "step 6-wait: PromotionTimeoutError: "
        f"{world.cluster_arns[SECONDARY]} is not the writer after 180 s (status failing-over"
    )
    # Fenced, unlocked, epoch unchanged: nobody writes until an operator (or a retry) finishes.
    control = world.control()
    assert (control["active_region"], control["state"], control["epoch"]) == (PRIMARY, "failing_over", 1)
    assert "lock_owner" not in control


def test_the_handler_raises_after_reporting_so_lambda_retries_then_dead_letters(
    world: World, invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.health.status[PRIMARY] = 503
    emulator.configure(describes_until_complete=None)
    monkeypatch.setenv("WAIT_TIMEOUT_SECONDS", "0.05")

    with pytest.raises(OrchestrationError, match=r"^failover failed at step 6-wait: PromotionTimeoutError"):
        invoke(sns_alarm())

    assert _outcomes(world) == ["failed"]


def test_the_wait_is_bounded_by_the_remaining_lambda_time(world: World, invoke: Any) -> None:
    world.health.status[PRIMARY] = 503
    emulator.configure(describes_until_complete=None)

    # 30.2 s left, 30 s kept back for the report: the wait gets 0.2 s, not WAIT_TIMEOUT_SECONDS.
    with pytest.raises(OrchestrationError, match=r"is not the writer after 0 s"):
        invoke(sns_alarm(), remaining_ms=30_200)


def test_missing_control_record_fails_loudly(world: World, invoke: Any) -> None:
    world.dynamodb.delete_item(TableName=TABLE_NAME, Key={"pk": {"S": "CONTROL"}, "sk": {"S": "CONTROL"}})

    with pytest.raises(OrchestrationError, match="step 1-check-writer: ControlMissingError"):
        invoke({"action": "switchover"})

    assert _outcomes(world) == ["failed"]
    assert _started() == []


# -- bad events -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("event", "field", "message"),
    [
        ([], "$", "must be a JSON object, got list"),
        (
            {"hello": 1},
            "$",
            "unknown event format: expected an SNS notification (Records), a CloudWatch "
            "alarm action (source aws.cloudwatch) or a manual event with action "
            "(switchover | failover | failback)",
        ),
        ({"action": "promote"}, "action", "must be one of switchover, failover, failback, got 'promote'"),
        ({"action": "switchover", "dry_run": "yes"}, "dry_run", "must be true or false, got 'yes'"),
        ({"action": "switchover", "force": True}, "force", "only applies to action failover"),
        (
            {"action": "failover", "target": "eu-west-1"},
            "target",
            "unknown field; allowed: action, dry_run, force, reason",
        ),
        ({"Records": []}, "Records", "must be a list with exactly one SNS record"),
        ({"Records": [{"EventSource": "aws:sqs"}]}, "Records[0].EventSource", "must be aws:sns"),
        (
            {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "not json"}}]},
            "Records[0].Sns.Message",
            "not a JSON alarm notification: Expecting value: line 1 column 1 (char 0)",
        ),
        (
            {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": '{"NewStateValue": "ALARM"}'}}]},
            "Records[0].Sns.Message.AlarmName",
            "missing or not a string",
        ),
        (
            {"source": "aws.cloudwatch", "alarmData": {"alarmName": "x"}},
            "alarmData.state.value",
            "missing or not a string",
        ),
        (
            _with_alarm_arn(sns_alarm(), f"arn:aws:cloudwatch:{PRIMARY}:123456789012:alarm:other"),
            "Records[0].Sns.Message.AlarmArn",
            f"must be the CloudWatch alarm ARN of '{PRIMARY_ALARM}'",
        ),
        (
            _with_alarm_arn(sns_alarm(), f"arn:aws:cloudwatch:us-west-2:123456789012:alarm:{PRIMARY_ALARM}"),
            "Records[0].Sns.Message.AlarmArn",
            f"alarm region us-west-2 is neither configured region ({PRIMARY}, {SECONDARY})",
        ),
        (
            {**composite_alarm_action(), "alarmArn": 42},
            "alarmArn",
            "must be the CloudWatch alarm ARN of 'trading-test-primary-down-use2'",
        ),
        (
            composite_alarm_action(state="BROKEN"),
            "alarmData.state.value",
            "must be one of ALARM, OK, INSUFFICIENT_DATA, got 'BROKEN'",
        ),
        (
            sns_alarm(state="alarm"),
            "Records[0].Sns.Message.NewStateValue",
            "must be one of ALARM, OK, INSUFFICIENT_DATA, got 'alarm'",
        ),
        (
            {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "[" * 100_000 + "]" * 100_000}}]},
            "Records[0].Sns.Message",
            "nested too deeply to be an alarm notification",
        ),
    ],
)
def test_a_malformed_event_is_rejected_naming_the_field(
    world: World, invoke: Any, event: Any, field: str, message: str
) -> None:
    with pytest.raises(EventValidationError) as rejected:
        invoke(event)

    assert (rejected.value.field, rejected.value.message) == (field, message)
    assert str(rejected.value) == f"invalid event: {field}: {message}"
    reports = world.reports()
    assert [(r["outcome"], r["detail"]) for r in reports] == [
        ("rejected", f"invalid event: {field}: {message}")
    ]
    assert world.control()["epoch"] == 1


@pytest.mark.parametrize(
    ("event", "field", "message_start"),
    [
        ({"action": "x" * 1_000_000}, "action", "must be one of switchover, failover, failback, got 'xxx"),
        ({"action": "failover", "dry_run": ["y"] * 300_000}, "dry_run", "must be true or false, got ['y', "),
        ({"action": "failover", "z" * 500_000: 1}, "z" * 99 + "…", "unknown field; allowed: action, "),
    ],
    ids=["huge-action", "huge-dry-run", "huge-field-name"],
)
def test_a_huge_garbage_event_is_rejected_with_a_bounded_error_and_report(
    world: World, invoke: Any, event: Any, field: str, message_start: str
) -> None:
    with pytest.raises(EventValidationError) as rejected:
        invoke(event)

    assert rejected.value.field == field
    assert rejected.value.message.startswith(message_start)
    assert len(rejected.value.message) <= 300
    reports = world.reports()
    assert [(r["outcome"], r["detail"]) for r in reports] == [("rejected", str(rejected.value))]
    assert len(json.dumps(reports[0])) < 1024
    assert world.control()["epoch"] == 1


def test_a_promotion_refused_by_rds_lifts_the_fence_again(world: World, invoke: Any) -> None:
    invoke({"action": "switchover"}, request_id="req-1")
    world.reports()
    # Failback: the primary's API answers, but its database cluster is not available.
    emulator.set_region_available(PRIMARY, False)

    with pytest.raises(
        OrchestrationError, match=r"step 5-promote: InvalidDBClusterStateFault: .* is not available"
    ):
        invoke({"action": "failback"}, request_id="req-2")

    control = world.control()
    assert (control["active_region"], control["state"], control["epoch"]) == (SECONDARY, "active", 2)
    assert "lock_owner" not in control
    reports = world.reports()
    assert [r["outcome"] for r in reports] == ["failed"]
    assert reports[0]["steps"][-1] == {"step": "5-promote", "unfenced": True}
    assert world.writer_region() == SECONDARY


class _TimesOutOnce:
    """An RDS client whose first FailoverGlobalCluster times out (the answer lost on the way)."""

    def __init__(self, client: Any, reach_rds: bool) -> None:
        self._client = client
        self._reach_rds = reach_rds
        self.timed_out = False

    def failover_global_cluster(self, **request: Any) -> Any:
        from botocore.exceptions import ReadTimeoutError

        if not self.timed_out:
            self.timed_out = True
            if self._reach_rds:
                self._client.failover_global_cluster(**request)
            raise ReadTimeoutError(endpoint_url="https://rds.us-east-2.amazonaws.com/")
        return self._client.failover_global_cluster(**request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.mark.parametrize("reach_rds", [False, True], ids=["lost-before-rds", "lost-after-rds"])
def test_a_promotion_call_that_times_out_stays_fenced_and_the_retry_resumes(
    world: World, reach_rds: bool
) -> None:
    world.health.status[PRIMARY] = 503
    clock = SimulatedClock()
    orchestrator = world.orchestrator(clock)
    secondary_rds = _TimesOutOnce(orchestrator._deps.rds_in(SECONDARY), reach_rds)
    real_rds_in = orchestrator._deps.rds_in
    orchestrator._database._rds_in = lambda region: (
        secondary_rds if region == SECONDARY else real_rds_in(region)
    )

    with pytest.raises(OrchestrationError, match="step 5-promote: ReadTimeoutError"):
        orchestrator.run(sns_alarm(), request_id="req-1")

    # Whether or not RDS got the call, nobody can tell from here: writes stay refused.
    control = world.control()
    assert (control["state"], control["active_region"], "lock_owner" in control) == (
        "failing_over",
        PRIMARY,
        False,
    )
    assert "unfenced" not in world.reports()[0]["steps"][-1]

    retry = orchestrator.run(sns_alarm(), request_id="req-1")

    assert retry.outcome == "completed"
    assert len(_started("FailoverGlobalCluster")) == 1
    control = world.control()
    assert (control["active_region"], control["state"], control["epoch"]) == (SECONDARY, "active", 2)


def test_a_wait_that_runs_out_after_rds_accepted_stays_fenced(world: World, invoke: Any) -> None:
    world.health.status[PRIMARY] = 503
    emulator.configure(describes_until_complete=None)

    with pytest.raises(OrchestrationError):
        invoke(sns_alarm(), remaining_ms=30_200)

    assert world.control()["state"] == "failing_over"
