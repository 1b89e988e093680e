"""The three event formats the orchestrator accepts, validated into one :class:`Request`.

1. SNS-wrapped CloudWatch alarm (the cross-region subscription to the primary's topic)::

       {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "<alarm JSON>", ...}}]}

   where the alarm JSON carries ``AlarmName`` and ``NewStateValue`` (and usually ``AlarmArn``).
2. CloudWatch alarm action invoking the function directly (the primary-down composite)::

       {"source": "aws.cloudwatch", "alarmArn": "...",
        "alarmData": {"alarmName": "...", "state": {"value": "ALARM", ...}}}

3. Manual::

       {"action": "switchover" | "failover" | "failback", "dry_run": false,
        "reason": "free text (optional)", "force": false}

   ``switchover`` is planned (no data loss) to the secondary, ``failover`` unplanned
   (``AllowDataLoss``) to the secondary, ``failback`` planned back to the primary. ``force``
   (``failover`` only) skips the primary-down confirmation probes — never the health check of
   the target.

An alarm in ``ALARM`` state whose name is one of the trigger alarms becomes an unplanned
``failover``; any other alarm, or an ``OK``/``INSUFFICIENT_DATA`` state, is ignored (logged); a
state CloudWatch does not have is rejected like any malformed event.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

ACTION_SWITCHOVER = "switchover"
ACTION_FAILOVER = "failover"
ACTION_FAILBACK = "failback"
ACTIONS = (ACTION_SWITCHOVER, ACTION_FAILOVER, ACTION_FAILBACK)
MANUAL_KEYS = frozenset({"action", "dry_run", "reason", "force"})

#: CloudWatch's alarm states; anything else is not an alarm notification.
ALARM_STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")

#: ``arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>``
ALARM_ARN = re.compile(r"^arn:aws[a-z-]*:cloudwatch:([a-z]{2}(?:-[a-z]+)+-\d):\d{12}:alarm:(.+)$")

SOURCE_MANUAL = "manual"
SOURCE_ALARM = "alarm"


#: Longest field name / message an error carries: garbage of any size is echoed in the error and
#: in the SNS report, and SNS refuses messages over 256 KB (the report would be lost).
MAX_FIELD_CHARS = 100
MAX_MESSAGE_CHARS = 300


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


class EventValidationError(ValueError):
    """The event is malformed; ``field`` names the offending field (a JSON path)."""

    def __init__(self, field: str, message: str) -> None:
        field, message = _clip(field, MAX_FIELD_CHARS), _clip(message, MAX_MESSAGE_CHARS)
        super().__init__(f"invalid event: {field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Request:
    """What an event asks for."""

    action: str
    dry_run: bool
    source: str
    reason: str
    force: bool = False
    alarm_name: str | None = None
    alarm_state: str | None = None

    @property
    def planned(self) -> bool:
        """Switchover and failback are planned (no data loss); failover is not."""
        return self.action != ACTION_FAILOVER


@dataclass(frozen=True, slots=True)
class AlarmNotice:
    """An alarm state change (from SNS or a direct alarm action)."""

    name: str
    state: str
    reason: str
    #: The region of the alarm's ARN, when the event carries one, and the field that carried it.
    region: str | None = None
    arn_field: str | None = None


def parse_event(event: Any) -> Request | AlarmNotice:
    """Validate ``event``; raises :class:`EventValidationError` naming the bad field."""
    if not isinstance(event, dict):
        raise EventValidationError("$", f"must be a JSON object, got {type(event).__name__}")
    if "Records" in event:
        return _parse_sns(event)
    if event.get("source") == "aws.cloudwatch" or "alarmData" in event:
        return _parse_alarm_action(event)
    if "action" in event:
        return _parse_manual(event)
    raise EventValidationError(
        "$",
        "unknown event format: expected an SNS notification (Records), a CloudWatch alarm "
        "action (source aws.cloudwatch) or a manual event with action "
        f"({' | '.join(ACTIONS)})",
    )


def _parse_manual(event: dict[str, Any]) -> Request:
    unknown = sorted(set(event) - MANUAL_KEYS)
    if unknown:
        raise EventValidationError(unknown[0], f"unknown field; allowed: {', '.join(sorted(MANUAL_KEYS))}")
    action = event["action"]
    if action not in ACTIONS:
        raise EventValidationError("action", f"must be one of {', '.join(ACTIONS)}, got {action!r}")
    dry_run = event.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise EventValidationError("dry_run", f"must be true or false, got {dry_run!r}")
    force = event.get("force", False)
    if not isinstance(force, bool):
        raise EventValidationError("force", f"must be true or false, got {force!r}")
    if force and action != ACTION_FAILOVER:
        raise EventValidationError("force", "only applies to action failover")
    reason = event.get("reason", "manual request")
    if not isinstance(reason, str) or len(reason) > 500:
        raise EventValidationError("reason", "must be a string of at most 500 characters")
    return Request(action=action, dry_run=dry_run, source=SOURCE_MANUAL, reason=reason, force=force)


def _parse_sns(event: dict[str, Any]) -> AlarmNotice:
    records = event["Records"]
    if not isinstance(records, list) or len(records) != 1:
        raise EventValidationError("Records", "must be a list with exactly one SNS record")
    record = records[0]
    if not isinstance(record, dict) or record.get("EventSource") != "aws:sns":
        raise EventValidationError("Records[0].EventSource", "must be aws:sns")
    sns = record.get("Sns")
    if not isinstance(sns, dict) or not isinstance(sns.get("Message"), str):
        raise EventValidationError("Records[0].Sns.Message", "missing or not a string")
    try:
        message = json.loads(sns["Message"])
    except ValueError as exc:
        raise EventValidationError("Records[0].Sns.Message", f"not a JSON alarm notification: {exc}") from exc
    except RecursionError:
        # Deeply nested garbage must be rejected and reported like any other, not crash unreported.
        raise EventValidationError(
            "Records[0].Sns.Message", "nested too deeply to be an alarm notification"
        ) from None
    if not isinstance(message, dict):
        raise EventValidationError("Records[0].Sns.Message", "must be a JSON object")
    name = message.get("AlarmName")
    state = message.get("NewStateValue")
    if not isinstance(name, str) or not name:
        raise EventValidationError("Records[0].Sns.Message.AlarmName", "missing or not a string")
    if not isinstance(state, str) or not state:
        raise EventValidationError("Records[0].Sns.Message.NewStateValue", "missing or not a string")
    _check_state("Records[0].Sns.Message.NewStateValue", state)
    arn_field = "Records[0].Sns.Message.AlarmArn"
    return AlarmNotice(
        name=name,
        state=state,
        reason=str(message.get("NewStateReason", "")),
        region=_alarm_region(arn_field, message.get("AlarmArn"), name),
        arn_field=arn_field,
    )


def _parse_alarm_action(event: dict[str, Any]) -> AlarmNotice:
    data = event.get("alarmData")
    if not isinstance(data, dict):
        raise EventValidationError("alarmData", "missing or not an object")
    name = data.get("alarmName")
    if not isinstance(name, str) or not name:
        raise EventValidationError("alarmData.alarmName", "missing or not a string")
    state = data.get("state")
    value = state.get("value") if isinstance(state, dict) else None
    if not isinstance(value, str) or not value:
        raise EventValidationError("alarmData.state.value", "missing or not a string")
    _check_state("alarmData.state.value", value)
    return AlarmNotice(
        name=name,
        state=value,
        reason=str(state.get("reason", "")),  # type: ignore[union-attr]
        region=_alarm_region("alarmArn", event.get("alarmArn"), name),
        arn_field="alarmArn",
    )


def _check_state(field: str, state: str) -> None:
    if state not in ALARM_STATES:
        raise EventValidationError(field, f"must be one of {', '.join(ALARM_STATES)}, got {state[:40]!r}")


def _alarm_region(field: str, arn: Any, name: str) -> str | None:
    """The region of ``arn`` (absent: ``None``); it must be the ARN of the alarm ``name``."""
    if arn is None:
        return None
    match = ALARM_ARN.match(arn) if isinstance(arn, str) else None
    if match is None or match.group(2) != name:
        raise EventValidationError(field, f"must be the CloudWatch alarm ARN of {name[:100]!r}")
    return match.group(1)
