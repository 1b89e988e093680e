"""The Aurora global database: who is the writer, promote a member, wait for it (steps 1, 5, 6)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trading_runtime.aws import error_code

STATUS_AVAILABLE = "available"


class PromotionTimeoutError(RuntimeError):
    """The target did not become the writer within the bound."""


class PromotionConflictError(RuntimeError):
    """Another switchover/failover, to a different target, is in progress."""


@dataclass(frozen=True, slots=True)
class GlobalState:
    """One DescribeGlobalClusters answer, reduced to what the orchestrator decides on."""

    status: str
    writer_arn: str | None
    pending_target_arn: str | None

    @property
    def settled(self) -> bool:
        """No operation in progress."""
        return self.status == STATUS_AVAILABLE and self.pending_target_arn is None


class GlobalDatabase:
    """Calls on one global cluster; ``rds_in(region)`` gives an RDS client in that region."""

    def __init__(self, rds_in: Callable[[str], Any], global_cluster_id: str) -> None:
        self._rds_in = rds_in
        self._id = global_cluster_id

    def state(self, region: str) -> GlobalState:
        """The global cluster as seen from ``region``."""
        answer = self._rds_in(region).describe_global_clusters(GlobalClusterIdentifier=self._id)
        clusters = answer.get("GlobalClusters") or []
        if not clusters:
            raise RuntimeError(f"global cluster {self._id} not found")
        cluster = clusters[0]
        writer = next(
            (m["DBClusterArn"] for m in cluster.get("GlobalClusterMembers", []) if m.get("IsWriter")), None
        )
        failover_state = cluster.get("FailoverState") or {}
        return GlobalState(
            status=str(cluster.get("Status", "")),
            writer_arn=writer,
            pending_target_arn=failover_state.get("ToDbClusterArn"),
        )

    def promote(self, region: str, target_arn: str, planned: bool) -> str:
        """Start the promotion with the RDS client of ``region``; returns the API called.

        The call is not idempotent, and a retried call whose first attempt reached RDS (a 5xx
        or timeout after acceptance) fails with "operation in progress": if that operation, or
        its result, is the one we asked for, the promotion is under way and the wait decides.
        """
        rds = self._rds_in(region)
        api = "SwitchoverGlobalCluster" if planned else "FailoverGlobalCluster"
        try:
            if planned:
                rds.switchover_global_cluster(
                    GlobalClusterIdentifier=self._id, TargetDbClusterIdentifier=target_arn
                )
            else:
                rds.failover_global_cluster(
                    GlobalClusterIdentifier=self._id, TargetDbClusterIdentifier=target_arn, AllowDataLoss=True
                )
        except Exception as exc:
            if error_code(exc) not in ("InvalidGlobalClusterStateFault", "InvalidParameterValue"):
                raise
            state = self.state(region)
            if state.pending_target_arn == target_arn or state.writer_arn == target_arn:
                return f"{api} (already accepted)"
            if state.pending_target_arn is not None:
                raise PromotionConflictError(
                    f"an operation to {state.pending_target_arn} is in progress"
                ) from exc
            raise
        return api

    def wait_for_writer(
        self,
        region: str,
        target_arn: str,
        *,
        timeout_seconds: float,
        poll_seconds: float,
        now: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> int:
        """Poll until ``target_arn`` is the writer and nothing is in progress; returns polls."""
        deadline = now() + timeout_seconds
        polls = 0
        while True:
            polls += 1
            state = self.state(region)
            if state.writer_arn == target_arn and state.settled:
                return polls
            if now() + poll_seconds > deadline:
                raise PromotionTimeoutError(
                    f"{target_arn} is not the writer after {timeout_seconds:.0f} s "
                    f"(status {state.status}, writer {state.writer_arn})"
                )
            sleep(poll_seconds)
