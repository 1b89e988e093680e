"""The orchestrator's writes to the control record (the lock with its epoch, the states).

Layout, statuses and the record key come from ``trading_runtime.control`` — the same module the
order API and the processor read with — so the fence they apply and the states written here
cannot drift apart. Only the orchestrator writes the record, always in its own region's replica
(the secondary): conditional writes are only serialisable within one replica, and with a
single orchestrator (reserved concurrency 1) in one region every lock attempt goes through the
same replica. Other regions see the change after global-table replication (about a second;
see ``trading_runtime.control`` for why the window only ever fences *more*).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trading_runtime.aws import error_code
from trading_runtime.control import (
    CONTROL_KEY,
    STATE_ACTIVE,
    STATE_FAILING_OVER,
    ControlRecord,
    ControlRecordMissingError,
)
from trading_runtime.dynamo import deserialize_item, serialize_value


class LockHeldError(RuntimeError):
    """Another invocation holds the lock (or the record moved under us)."""

    def __init__(self, owner: str | None) -> None:
        super().__init__(f"the control record is locked by {owner or 'another writer'}")
        self.owner = owner


class ControlMissingError(RuntimeError):
    """No usable control record: the environment was never bootstrapped."""


@dataclass(frozen=True, slots=True)
class ControlView:
    """The control record with the orchestrator's lock fields."""

    record: ControlRecord
    lock_owner: str | None
    lock_expires_at: float | None

    @property
    def failing_over(self) -> bool:
        """True while a failover is in progress."""
        return self.record.state == STATE_FAILING_OVER


def _iso(now: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ControlStore:
    """Conditional writes on the control record; every transition names its lock owner."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def read(self) -> ControlView:
        """The current record (strongly consistent read of this region's replica)."""
        item = self._client.get_item(TableName=self._table, Key=CONTROL_KEY, ConsistentRead=True).get("Item")
        if not item:
            raise ControlMissingError("the control record (pk=CONTROL, sk=CONTROL) does not exist")
        values = deserialize_item(item)
        try:
            record = ControlRecord.from_item(values)
        except ControlRecordMissingError as exc:
            raise ControlMissingError(str(exc)) from exc
        expires = values.get("lock_expires_at")
        return ControlView(
            record=record,
            lock_owner=values.get("lock_owner"),
            lock_expires_at=float(expires) if expires is not None else None,
        )

    def acquire(self, owner: str, epoch: int, now: float, ttl_seconds: int) -> ControlView:
        """Take the lock at ``epoch``: free, expired, or already ours (a Lambda retry keeps its
        request id). Raises :class:`LockHeldError` otherwise — including when the epoch moved,
        which means another run completed in between."""
        self._update(
            "SET lock_owner = :owner, lock_expires_at = :expires, updated_at = :at",
            "epoch = :epoch AND (attribute_not_exists(lock_owner) OR lock_owner = :owner "
            "OR lock_expires_at < :now)",
            {
                ":owner": owner,
                ":expires": int(now) + ttl_seconds,
                ":at": _iso(now),
                ":epoch": epoch,
                ":now": int(now),
            },
        )
        return self.read()

    def set_failing_over(self, owner: str, now: float) -> None:
        """Fence every region (step 4): ``state = failing_over``, same ``active_region``."""
        self._update(
            "SET #state = :failing, updated_at = :at",
            "lock_owner = :owner",
            {":failing": STATE_FAILING_OVER, ":at": _iso(now), ":owner": owner},
        )

    def complete(self, owner: str, active_region: str, epoch: int, now: float) -> None:
        """Name the new active region with ``epoch`` + 1 and release the lock (step 7)."""
        self._update(
            "SET active_region = :region, #state = :active, epoch = :next, updated_at = :at "
            "REMOVE lock_owner, lock_expires_at",
            "lock_owner = :owner AND epoch = :epoch",
            {
                ":region": active_region,
                ":active": STATE_ACTIVE,
                ":next": epoch + 1,
                ":epoch": epoch,
                ":at": _iso(now),
                ":owner": owner,
            },
        )

    def unfence(self, owner: str, now: float) -> None:
        """Back to ``active`` with the same region and epoch, lock dropped: a promotion that RDS
        refused before it started must not leave every region refusing writes."""
        self._update(
            "SET #state = :active, updated_at = :at REMOVE lock_owner, lock_expires_at",
            "lock_owner = :owner AND #state = :failing",
            {":active": STATE_ACTIVE, ":failing": STATE_FAILING_OVER, ":at": _iso(now), ":owner": owner},
        )

    def release(self, owner: str, now: float) -> None:
        """Drop our lock, leaving the state as it is (a failed run stays fenced)."""
        try:
            self._update(
                "SET updated_at = :at REMOVE lock_owner, lock_expires_at",
                "lock_owner = :owner",
                {":at": _iso(now), ":owner": owner},
            )
        except LockHeldError:
            pass

    def _update(self, update: str, condition: str, values: dict[str, Any]) -> None:
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": CONTROL_KEY,
            "UpdateExpression": update,
            "ConditionExpression": f"attribute_exists(pk) AND ({condition})",
            "ExpressionAttributeValues": {k: serialize_value(v) for k, v in values.items()},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if "#state" in update:
            request["ExpressionAttributeNames"] = {"#state": "state"}
        try:
            self._client.update_item(**request)
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            old = getattr(exc, "response", {}).get("Item") or {}
            owner = old.get("lock_owner", {}).get("S")
            raise LockHeldError(owner) from exc
