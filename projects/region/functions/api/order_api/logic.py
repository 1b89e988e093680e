"""Business logic of the order API: accept orders behind the write fence, read them, health.

Idempotency — why a conditional write and not powertools' idempotency utility: the order id is
a UUIDv5 of ``client_order_id``, so the order item *is* the idempotency record. One
transaction puts it with ``attribute_not_exists(pk)`` next to a ``ConditionCheck`` on the
control record (the write fence). Compared with the utility this needs no second record with
an ``INPROGRESS`` state to expire after a timed-out invocation, cannot cache a response that
disagrees with the stored order, and compares the *fields* of a replay (so ``"10.50"`` and
``10.5`` are the same price) instead of a hash of the raw payload.

A replay (same ``client_order_id``, same fields) writes nothing and answers **200** with the
order as currently stored (its status may have moved on to ``SETTLED``) and the header
``Idempotent-Replayed: true``; the first acceptance answers **201**. The same
``client_order_id`` with different fields is a **409** naming the differing fields.

Idempotency is per replica: a retry that reaches the other region after a failover before the
order item has replicated would not see it — that region is fenced (``failing_over``) until
the orchestrator has promoted the database, which takes far longer than the table's
replication lag in every case short of a full partition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from trading_runtime.aws import error_code
from trading_runtime.control import ControlRecord, ControlRepository, Fence, fence_for
from trading_runtime.orders import (
    Order,
    OrderRepository,
    OrderRequest,
    WriteFencedError,
)

CHECK_OK = "ok"
CHECK_ERROR = "error"


class WritesFencedError(RuntimeError):
    """This region refuses writes; ``fence`` says why and for how long."""

    def __init__(self, fence: Fence) -> None:
        super().__init__(fence.message)
        self.fence = fence


class IdempotencyConflictError(RuntimeError):
    """``client_order_id`` already names an order with different fields."""

    def __init__(self, existing: Order, fields: list[str]) -> None:
        super().__init__(
            f"client_order_id {existing.client_order_id!r} was already used for order "
            f"{existing.order_id} with a different {', '.join(fields)}"
        )
        self.existing = existing
        self.fields = fields


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    """Result of :meth:`OrderService.place`."""

    order: Order
    created: bool


class OrderService:
    """Accepts and reads orders in one region."""

    def __init__(self, orders: OrderRepository, control: ControlRepository, region: str) -> None:
        self._orders = orders
        self._control = control
        self._region = region

    def place(self, request: OrderRequest) -> PlacedOrder:
        """Accept ``request`` once; replays return the stored order.

        Raises :class:`WritesFencedError` outside the active region or during a failover, and
        :class:`IdempotencyConflictError` for a reused ``client_order_id``.
        """
        control = self._control.get()
        fence = fence_for(control, self._region)
        if fence is not None:
            raise WritesFencedError(fence)
        if control is None:  # pragma: no cover - fence_for(None) always fences
            raise RuntimeError("unreachable: no control record and no fence")
        try:
            result = self._orders.create(request.accept(self._region, control.epoch), self._region)
        except WriteFencedError as exc:
            # The control record moved between our read and the transaction.
            raise WritesFencedError(_fence_after_race(exc.control, self._region)) from exc
        if not result.created:
            differences = result.order.differences(request)
            if differences:
                raise IdempotencyConflictError(result.order, differences)
        return PlacedOrder(order=result.order, created=result.created)

    def get(self, order_id: str) -> Order | None:
        """The order with ``order_id`` (local replica, strongly consistent), or ``None``."""
        return self._orders.get(order_id)


def _fence_after_race(control: ControlRecord | None, region: str) -> Fence:
    fence = fence_for(control, region)
    if fence is not None:
        return fence
    # Same region and state, newer epoch: a failover and failback happened in between.
    epoch = control.epoch if control is not None else None
    return Fence(
        reason="failover_in_progress",
        message=f"the control epoch moved to {epoch} during the request; retry",
        retry_after=1,
        active_region=control.active_region if control is not None else None,
    )


@dataclass(frozen=True, slots=True)
class HealthReport:
    """What ``/health`` and ``/health/active`` report."""

    region: str
    role: str
    checks: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    active_region: str | None = None
    epoch: int | None = None

    @property
    def healthy(self) -> bool:
        """True when every dependency check passed."""
        return all(value == CHECK_OK for value in self.checks.values())

    def to_json(self) -> dict[str, Any]:
        """The JSON body (error details are exception class names only: the URL is public)."""
        body: dict[str, Any] = {
            "region": self.region,
            "role": self.role,
            "healthy": self.healthy,
            "active_region": self.active_region,
            "epoch": self.epoch,
            "checks": dict(self.checks),
        }
        if self.errors:
            body["failing"] = sorted(self.errors)
            body["errors"] = dict(self.errors)
        return body


class HealthService:
    """Checks this region's dependencies: the table (via the control record) and the reader."""

    def __init__(self, control: ControlRepository, probe_database: Callable[[], None], region: str) -> None:
        self._control = control
        self._probe_database = probe_database
        self._region = region

    def check(self) -> HealthReport:
        """Run both checks; a failing dependency is reported, never raised."""
        checks: dict[str, str] = {}
        errors: dict[str, str] = {}
        control: ControlRecord | None = None
        try:
            control = self._control.get()
            checks["table"] = CHECK_OK
        except Exception as exc:  # noqa: BLE001 - any failure means "table: error"
            checks["table"] = CHECK_ERROR
            errors["table"] = _describe(exc)
        try:
            self._probe_database()
            checks["database"] = CHECK_OK
        except Exception as exc:  # noqa: BLE001 - any failure means "database: error"
            checks["database"] = CHECK_ERROR
            errors["database"] = _describe(exc)
        # Without a readable control record this region cannot claim to be active.
        role = control.role_of(self._region) if control is not None else "passive"
        return HealthReport(
            region=self._region,
            role=role,
            checks=checks,
            errors=errors,
            active_region=control.active_region if control else None,
            epoch=control.epoch if control else None,
        )


def _describe(exc: BaseException) -> str:
    return error_code(exc) or type(exc).__name__
