"""Step 8: hand every order the old active region accepted but never settled to the new one.

An order item is settled by the processor of its ``origin_region`` only (the event source
mapping filters on it). The old region's processor cannot settle any more (it lost the Aurora
writer), so each ``ACCEPTED`` order with the old origin is re-stamped with the new one; the
``MODIFY`` arrives on the new region's stream and its processor settles it (idempotently: the
ledger is keyed by order id). The update is conditional on the status and the old origin, so a
repeated hand-over, or one racing a late settlement, changes each order at most once.

The scan reads this region's replica: orders the old primary accepted in the last replication
window before it became unreachable arrive later, when replication resumes; the orchestrator's
next run (a no-op run also sweeps) hands them over then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trading_runtime.aws import error_code
from trading_runtime.dynamo import serialize_value
from trading_runtime.orders import ORDER_SK, STATUS_ACCEPTED


@dataclass(frozen=True, slots=True)
class HandoverResult:
    """How many orders moved, and how many had moved (or settled) meanwhile."""

    handed_over: tuple[str, ...]
    skipped: int


class OrderHandover:
    """Re-stamps unsettled orders from one origin to another."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def unsettled(self, origin: str) -> list[dict[str, Any]]:
        """Keys of ``ACCEPTED`` orders with ``origin_region = origin`` (strongly consistent scan)."""
        keys: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "ConsistentRead": True,
            "ProjectionExpression": "pk, sk",
            "FilterExpression": "sk = :sk AND #status = :accepted AND origin_region = :origin",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":sk": serialize_value(ORDER_SK),
                ":accepted": serialize_value(STATUS_ACCEPTED),
                ":origin": serialize_value(origin),
            },
        }
        while True:
            page = self._client.scan(**request)
            keys.extend({"pk": item["pk"], "sk": item["sk"]} for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return keys
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def hand_over(self, old_region: str, new_region: str, epoch: int, at: str) -> HandoverResult:
        """Move every unsettled order of ``old_region`` to ``new_region`` (at most once each)."""
        moved: list[str] = []
        skipped = 0
        for key in self.unsettled(old_region):
            try:
                self._client.update_item(
                    TableName=self._table,
                    Key=key,
                    UpdateExpression=(
                        "SET origin_region = :new, handed_over_from = :old, handed_over_at = :at, "
                        "handover_epoch = :epoch"
                    ),
                    ConditionExpression="#status = :accepted AND origin_region = :old",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={
                        ":new": serialize_value(new_region),
                        ":old": serialize_value(old_region),
                        ":at": serialize_value(at),
                        ":epoch": serialize_value(epoch),
                        ":accepted": serialize_value(STATUS_ACCEPTED),
                    },
                )
            except Exception as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
                skipped += 1
                continue
            moved.append(key["pk"]["S"].removeprefix("ORDER#"))
        return HandoverResult(handed_over=tuple(moved), skipped=skipped)
