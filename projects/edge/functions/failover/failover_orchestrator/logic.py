"""The failover orchestrator: the nine steps of SPEC E7 as one :meth:`Orchestrator.run`.

Every run ends in exactly one SNS report. Deliberate decisions (no-op, ignored alarm, lock
held, refusal, dry run) return an :class:`Outcome`; failures are reported and then raised, so
Lambda's asynchronous retries — and after them the dead-letter queue — see them too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from trading_runtime.aws import error_code

from failover_orchestrator.control import ControlStore, ControlView, LockHeldError
from failover_orchestrator.database import GlobalDatabase, PromotionConflictError
from failover_orchestrator.events import (
    ACTION_FAILBACK,
    ACTION_FAILOVER,
    SOURCE_ALARM,
    AlarmNotice,
    EventValidationError,
    Request,
    parse_event,
)
from failover_orchestrator.handover import OrderHandover
from failover_orchestrator.probes import Probe, ProbeSummary, confirm
from failover_orchestrator.settings import MODE_MANUAL, OrchestratorSettings

logger = Logger(child=True)

OUTCOME_COMPLETED = "completed"
OUTCOME_NOOP = "noop"
OUTCOME_DRY_RUN = "dry_run"
OUTCOME_IGNORED = "ignored"
OUTCOME_LOCKED = "locked"
OUTCOME_REFUSED = "refused"
OUTCOME_MANUAL_MODE = "manual_mode"
OUTCOME_FAILED = "failed"
OUTCOME_REJECTED = "rejected"

# Time kept back from the Lambda timeout for reporting after a wait that runs out.
TIMEOUT_MARGIN_SECONDS = 30.0


class OrchestrationError(RuntimeError):
    """A run failed after it was reported; ``step`` names where."""

    def __init__(self, step: str, cause: BaseException) -> None:
        super().__init__(f"failover failed at step {step}: {type(cause).__name__}: {cause}")
        self.step = step


@dataclass
class Dependencies:
    """Everything the orchestrator talks to; the handler builds real ones, tests and the drill
    pass their own (moto clients, a local probe target, a simulated clock)."""

    dynamodb: Any  # DynamoDB client in the orchestrator's region
    sns: Any  # SNS client in the orchestrator's region
    rds_in: Callable[[str], Any]  # region -> RDS client
    probe: Probe
    now: Callable[[], float]
    sleep: Callable[[float], None]
    remaining_seconds: Callable[[], float] | None = None


@dataclass
class Outcome:
    """The result of one run, as returned by the handler and published on SNS."""

    outcome: str
    action: str | None = None
    source: str | None = None
    dry_run: bool = False
    from_region: str | None = None
    to_region: str | None = None
    epoch: int | None = None
    handed_over: list[str] = field(default_factory=list)
    detail: str = ""
    steps: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The report body."""
        return {
            "outcome": self.outcome,
            "action": self.action,
            "source": self.source,
            "dry_run": self.dry_run,
            "from_region": self.from_region,
            "to_region": self.to_region,
            "epoch": self.epoch,
            "handed_over": self.handed_over,
            "detail": self.detail,
            "steps": self.steps,
        }


class Orchestrator:
    """Runs one event to an :class:`Outcome` (see module docstring)."""

    def __init__(self, settings: OrchestratorSettings, deps: Dependencies) -> None:
        self._settings = settings
        self._deps = deps
        self._control = ControlStore(deps.dynamodb, settings.table_name)
        self._database = GlobalDatabase(deps.rds_in, settings.global_cluster_id)
        self._handover = OrderHandover(deps.dynamodb, settings.table_name)

    # -- entry point ------------------------------------------------------------------------
    def run(self, event: Any, request_id: str) -> Outcome:
        """Handle ``event`` as invocation ``request_id`` (the lock owner)."""
        try:
            parsed = parse_event(event)
            if isinstance(parsed, AlarmNotice):
                self._check_alarm_region(parsed)
        except EventValidationError as exc:
            self._report(Outcome(OUTCOME_REJECTED, detail=str(exc)))
            raise
        if isinstance(parsed, AlarmNotice):
            request = self._request_for_alarm(parsed)
            if isinstance(request, Outcome):
                if request.outcome == OUTCOME_IGNORED:
                    # Logged, not published: an OK transition or a non-trigger alarm is not news,
                    # and reporting it would page on every alarm change of the primary.
                    logger.info("alarm ignored", extra={"report": request.to_json()})
                else:
                    self._report(request)
                return request
        else:
            request = parsed
        outcome = Outcome(
            "running",
            action=request.action,
            source=request.source,
            dry_run=request.dry_run,
        )
        step = "start"
        try:
            return self._run(request, request_id, outcome, lambda name: _set(outcome, name))
        except Exception as exc:
            step = outcome.steps[-1]["step"] if outcome.steps else step
            outcome.outcome = OUTCOME_FAILED
            outcome.detail = f"step {step}: {type(exc).__name__}: {exc}"
            try:
                self._control.release(request_id, self._deps.now())
            except Exception:
                logger.exception("could not release the lock")
            # The report is attempted even if the release failed; if SNS itself fails, the
            # raise below still sends the event through Lambda's retries to the DLQ.
            try:
                self._report(outcome)
            except Exception:
                logger.exception("could not publish the failure report")
            raise OrchestrationError(step, exc) from exc

    # -- the steps --------------------------------------------------------------------------
    def _run(self, request: Request, owner: str, outcome: Outcome, step: Callable[[str], None]) -> Outcome:
        s = self._settings
        target = s.primary_region if request.action == ACTION_FAILBACK else s.secondary_region
        source = s.other_region(target)
        target_arn = s.cluster_arns[target]
        outcome.from_region, outcome.to_region = source, target

        step("1-check-writer")
        control = self._control.read()
        db = self._database.state(s.region)
        outcome.epoch = control.record.epoch
        self._log(
            outcome, writer=db.writer_arn, state=control.record.state, active=control.record.active_region
        )
        target_is_writer = db.writer_arn == target_arn and db.settled
        if target_is_writer and control.record.active_region == target and not control.failing_over:
            # Already done (a repeated event, or an operator asking twice). Orders that arrived
            # late from the old region still need their hand-over; the sweep is idempotent.
            if not request.dry_run:
                moved = self._handover.hand_over(source, target, control.record.epoch, self._iso())
                outcome.handed_over = list(moved.handed_over)
            return self._finish(outcome, OUTCOME_NOOP, f"{target} already holds the writer and is active")

        if request.dry_run:
            step("3-confirm")
            summary = self._confirm(request, outcome, source, target, target_is_writer)
            verdict = self._verdict(request, summary)
            detail = verdict or (
                f"would fence writes, {'switch over' if request.planned else 'fail over'} "
                f"{s.global_cluster_id} to {target_arn}, make {target} active at epoch "
                f"{control.record.epoch + 1} and hand over "
                f"{len(self._handover.unsettled(source))} unsettled order(s) of {source}"
            )
            return self._finish(outcome, OUTCOME_DRY_RUN, detail)

        step("2-lock")
        try:
            control = self._control.acquire(owner, control.record.epoch, self._deps.now(), s.lock_ttl_seconds)
        except LockHeldError as exc:
            return self._finish(outcome, OUTCOME_LOCKED, f"nothing done: {exc}")

        # A run that failed after fencing (or after the promotion) is resumed, not restarted:
        # probing the old primary again would wrongly refuse once it answers but lost the writer.
        resuming = control.failing_over or target_is_writer or db.pending_target_arn == target_arn
        if not resuming:
            step("3-confirm")
            summary = self._confirm(request, outcome, source, target, target_is_writer)
            verdict = self._verdict(request, summary)
            if verdict is not None:
                self._control.release(owner, self._deps.now())
                return self._finish(outcome, OUTCOME_REFUSED, verdict)

        step("4-fence")
        if not control.failing_over:
            self._control.set_failing_over(owner, self._deps.now())

        step("5-promote")
        if db.pending_target_arn is not None and db.pending_target_arn != target_arn:
            raise PromotionConflictError(f"an operation to {db.pending_target_arn} is in progress")
        if not target_is_writer and db.pending_target_arn is None:
            try:
                api = self._database.promote(target, target_arn, request.planned)
            except Exception as exc:
                if _refused_by_rds(exc):
                    self._unfence_if_nothing_started(owner, target, target_arn, outcome)
                raise
            self._log(outcome, api=api, target=target_arn)

        step("6-wait")
        polls = self._database.wait_for_writer(
            target,
            target_arn,
            timeout_seconds=self._wait_budget(),
            poll_seconds=s.poll_interval_seconds,
            now=self._deps.now,
            sleep=self._deps.sleep,
        )
        self._log(outcome, polls=polls)

        step("7-activate")
        self._control.complete(owner, target, control.record.epoch, self._deps.now())
        outcome.epoch = control.record.epoch + 1

        step("8-handover")
        moved = self._handover.hand_over(source, target, control.record.epoch + 1, self._iso())
        outcome.handed_over = list(moved.handed_over)

        step("9-report")
        return self._finish(
            outcome,
            OUTCOME_COMPLETED,
            f"{target} holds the writer and is active at epoch {control.record.epoch + 1}; "
            f"{len(moved.handed_over)} order(s) handed over",
        )

    # -- helpers ----------------------------------------------------------------------------
    def _check_alarm_region(self, notice: AlarmNotice) -> None:
        # Every trigger lives in one of the two regions; an alarm of any other region is not
        # about this environment, whatever its name says.
        regions = (self._settings.primary_region, self._settings.secondary_region)
        if notice.region is not None and notice.region not in regions:
            raise EventValidationError(
                notice.arn_field or "alarmArn",
                f"alarm region {notice.region} is neither configured region ({', '.join(regions)})",
            )

    def _request_for_alarm(self, notice: AlarmNotice) -> Request | Outcome:
        base = Outcome(OUTCOME_IGNORED, source=SOURCE_ALARM)
        if notice.name not in self._settings.trigger_alarms:
            base.detail = f"alarm {notice.name} is not a failover trigger"
            return base
        if notice.state != "ALARM":
            base.detail = f"alarm {notice.name} is {notice.state}, not ALARM"
            return base
        if self._settings.failover_mode == MODE_MANUAL:
            base.outcome = OUTCOME_MANUAL_MODE
            base.action = ACTION_FAILOVER
            base.detail = (
                f"alarm {notice.name} is ALARM; failoverMode is manual, so nothing was done. "
                'Invoke the orchestrator with {"action": "failover"} to fail over.'
            )
            return base
        return Request(
            action=ACTION_FAILOVER,
            dry_run=False,
            source=SOURCE_ALARM,
            reason=f"alarm {notice.name}: {notice.reason}"[:500],
            alarm_name=notice.name,
            alarm_state=notice.state,
        )

    def _confirm(
        self, request: Request, outcome: Outcome, source: str, target: str, target_is_writer: bool
    ) -> ProbeSummary:
        s = self._settings
        probe_source = not request.planned and not request.force and not target_is_writer
        summary = confirm(
            self._deps.probe,
            source_url=s.health_urls[source] if probe_source else None,
            target_url=s.health_urls[target],
            count=s.probe_count,
            interval_seconds=s.probe_interval_seconds,
            timeout_seconds=s.probe_timeout_seconds,
            sleep=self._deps.sleep,
        )
        self._log(
            outcome,
            source_probes=[r.status or r.error for r in summary.source_results],
            target_probes=[r.status or r.error for r in summary.target_results],
        )
        return summary

    def _verdict(self, request: Request, summary: ProbeSummary) -> str | None:
        """Why the probes forbid acting, or ``None``."""
        if summary.source_results and not summary.source_down:
            answered = sum(1 for r in summary.source_results if r.ok)
            return (
                f"the primary answered {answered} of {len(summary.source_results)} probes: "
                "not confirmed down, nothing changed"
            )
        if not summary.target_healthy:
            failures = [r.error or f"HTTP {r.status}" for r in summary.target_results if not r.ok]
            return f"the target region is not healthy ({'; '.join(failures)}): nothing changed"
        return None

    def _unfence_if_nothing_started(self, owner: str, target: str, target_arn: str, outcome: Outcome) -> None:
        # Only when RDS shows no operation towards the target and the old writer unchanged;
        # if the call may have been accepted, staying fenced is the safe side.
        try:
            state = self._database.state(self._settings.region)
        except Exception:
            logger.exception("could not confirm that nothing started; staying fenced")
            return
        if state.pending_target_arn is None and state.writer_arn != target_arn and state.settled:
            self._control.unfence(owner, self._deps.now())
            self._log(outcome, unfenced=True)

    def _wait_budget(self) -> float:
        budget = self._settings.wait_timeout_seconds
        if self._deps.remaining_seconds is not None:
            budget = min(budget, max(self._deps.remaining_seconds() - TIMEOUT_MARGIN_SECONDS, 0.0))
        return budget

    def _finish(self, outcome: Outcome, status: str, detail: str) -> Outcome:
        outcome.outcome = status
        outcome.detail = detail
        self._report(outcome)
        return outcome

    def _report(self, outcome: Outcome) -> None:
        s = self._settings
        subject = f"[trading-{s.environment}] failover {outcome.action or 'event'}: {outcome.outcome}"
        logger.info("failover outcome", extra={"report": outcome.to_json()})
        self._deps.sns.publish(
            TopicArn=s.report_topic_arn,
            Subject=subject[:100],
            Message=json.dumps(outcome.to_json(), default=str),
            MessageAttributes={"outcome": {"DataType": "String", "StringValue": outcome.outcome}},
        )

    def _log(self, outcome: Outcome, **values: Any) -> None:
        if outcome.steps:
            outcome.steps[-1].update(values)

    def _iso(self) -> str:
        return (
            datetime.fromtimestamp(self._deps.now(), UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z")
        )


def _refused_by_rds(exc: BaseException) -> bool:
    """RDS answered and refused the promotion (a 4xx fault), so it cannot have started.

    A timeout, a lost connection or a 5xx may hide a call RDS accepted — and
    DescribeGlobalClusters need not show it yet — and ``InvalidGlobalClusterStateFault`` is also
    what a retried call gets when its first attempt was accepted: in all of these the fence
    stays, and Lambda's retry resumes (it promotes again, or sees the operation under way).
    """
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    return (
        isinstance(status, int)
        and 400 <= status < 500
        and error_code(exc) != "InvalidGlobalClusterStateFault"
    )


def _set(outcome: Outcome, name: str) -> None:
    outcome.steps.append({"step": name})
    logger.info("failover step", extra={"step": name, "action": outcome.action})


__all__ = ["ControlView", "Dependencies", "OrchestrationError", "Orchestrator", "Outcome"]
