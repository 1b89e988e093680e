"""The control record: which region accepts writes, and whether a failover is in progress.

Item ``pk = "CONTROL"``, ``sk = "CONTROL"`` in the global table with ``active_region``,
``state`` (``active`` | ``failing_over``), ``epoch`` (N) and, written by the failover
orchestrator only, ``lock_owner``, ``lock_expires_at``, ``updated_at``. The functions only read
it, always with a strongly consistent read of the *local* replica.

Replication window: global tables replicate asynchronously (last writer wins, typically about a
second, longer under regional trouble). The orchestrator first sets ``failing_over`` and waits
for the database promotion before it names the new ``active_region``, so during the window a
region can only be *more* fenced than the truth (it still sees ``failing_over``), never accept
writes for a region that lost the writer — except an old primary that is cut off from
replication entirely; that one also loses the Aurora writer, so the processor cannot settle
there and the orchestrator re-stamps what it accepted (SPEC E7 step 8).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from trading_runtime.dynamo import deserialize_item

CONTROL_KEY = {"pk": {"S": "CONTROL"}, "sk": {"S": "CONTROL"}}
STATE_ACTIVE = "active"
STATE_FAILING_OVER = "failing_over"

ROLE_ACTIVE = "active"
ROLE_PASSIVE = "passive"
ROLE_FAILING_OVER = "failing_over"

# Retry-After hints (seconds) for clients refused by the fence. A promotion takes about a
# minute, DNS follows within the health-check window; a passive region will not become active
# on its own, so its clients should go through DNS again rather than hammer this region.
RETRY_AFTER_FAILING_OVER = 30
RETRY_AFTER_PASSIVE = 60
RETRY_AFTER_NOT_CONFIGURED = 60


class ControlRecordMissingError(RuntimeError):
    """The control record does not exist: the environment has not been bootstrapped."""


@dataclass(frozen=True, slots=True)
class ControlRecord:
    """The parts of the control record the functions act on."""

    active_region: str
    state: str
    epoch: int

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> ControlRecord:
        """Build from a deserialized item; a malformed record is treated as missing."""
        active_region = item.get("active_region")
        state = item.get("state")
        epoch = item.get("epoch")
        if not isinstance(active_region, str) or not isinstance(state, str):
            raise ControlRecordMissingError("control record lacks active_region or state")
        if not isinstance(epoch, Decimal | int) or int(epoch) != epoch:
            raise ControlRecordMissingError("control record lacks an integer epoch")
        return cls(active_region=active_region, state=state, epoch=int(epoch))

    def role_of(self, region: str) -> str:
        """``active`` | ``passive`` | ``failing_over`` as seen by ``region``."""
        if self.state == STATE_FAILING_OVER:
            return ROLE_FAILING_OVER
        if self.state == STATE_ACTIVE and self.active_region == region:
            return ROLE_ACTIVE
        return ROLE_PASSIVE

    def accepts_writes_in(self, region: str) -> bool:
        """True only in the active region while no failover is in progress."""
        return self.role_of(region) == ROLE_ACTIVE


@dataclass(frozen=True, slots=True)
class Fence:
    """Why a region refuses writes, as reported to clients (503 + ``Retry-After``)."""

    reason: str
    message: str
    retry_after: int
    active_region: str | None

    def body(self, region: str) -> dict[str, Any]:
        """The JSON body of the 503 answer."""
        return {
            "error": self.reason,
            "message": self.message,
            "region": region,
            "active_region": self.active_region,
        }


def fence_for(control: ControlRecord | None, region: str) -> Fence | None:
    """The fence that applies to writes in ``region``, or ``None`` if it may write."""
    if control is None:
        return Fence(
            reason="not_configured",
            message=(
                "the control record (pk=CONTROL, sk=CONTROL) does not exist, so no region is "
                "active; writes are refused until the failover tooling writes it"
            ),
            retry_after=RETRY_AFTER_NOT_CONFIGURED,
            active_region=None,
        )
    role = control.role_of(region)
    if role == ROLE_FAILING_OVER:
        return Fence(
            reason="failover_in_progress",
            message=(
                f"a failover is in progress (epoch {control.epoch}); writes are refused in "
                f"every region until it completes; last active region: {control.active_region}"
            ),
            retry_after=RETRY_AFTER_FAILING_OVER,
            active_region=control.active_region,
        )
    if role == ROLE_PASSIVE:
        return Fence(
            reason="region_not_active",
            message=(
                f"region {region} is passive and does not accept writes; "
                f"the active region is {control.active_region}"
            ),
            retry_after=RETRY_AFTER_PASSIVE,
            active_region=control.active_region,
        )
    return None


class ControlRepository:
    """Reads the control record from the local replica (strongly consistent)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def get(self) -> ControlRecord | None:
        """The control record, or ``None`` when it does not exist (or is malformed)."""
        response = self._client.get_item(TableName=self._table_name, Key=CONTROL_KEY, ConsistentRead=True)
        item = response.get("Item")
        if not item:
            return None
        try:
            return ControlRecord.from_item(deserialize_item(item))
        except ControlRecordMissingError:
            return None
