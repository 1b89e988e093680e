"""Settlement of accepted orders from the local replica's stream into the Aurora ledger.

Per stream record (one :class:`SettlementService` per invocation):

* not an ``INSERT``/``MODIFY`` of an order item whose new image has status ``ACCEPTED``
  (removals, the processor's own ``SETTLED`` update, control-record changes): success, nothing
  to do.
* ``origin_region`` is another region: success, skipped with a log line. The event source
  mapping already filters on the origin; this is the defence for a mapping without the filter.
  Settling here would write through the global writer endpoint from a region that may not hold
  the writer, and the order's own region settles it anyway (after a failover the orchestrator
  re-stamps unsettled orders with the new origin, which arrives here as a ``MODIFY``).
* malformed order (the poison pill): that record fails, the others go on. Stream retries are
  bounded by the mapping (retry attempts, record age, bisect on error), after which the record
  goes to the on-failure destination — it is never silently dropped.
* the control record (strongly consistent, read once per batch) does not name this region as
  active, or a failover is in progress: the record fails and is retried — it is *never*
  dropped, and it settles once this region holds the writer.
* otherwise: migrations once per container, ``INSERT … ON CONFLICT (order_id) DO NOTHING`` on
  the writer, then the order item moves ``ACCEPTED`` → ``SETTLED`` with a condition; a failed
  condition means another delivery already settled it.

Once the writer is unreachable, the remaining records of the batch fail at once instead of
each waiting for its own connect timeout (the batch must finish inside the function timeout).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from trading_runtime.control import ControlRecord, ControlRepository
from trading_runtime.ledger import LedgerEntry, LedgerRepository
from trading_runtime.orders import (
    ORDER_SK,
    STATUS_ACCEPTED,
    InvalidOrderError,
    Order,
    OrderRepository,
    utc_now_iso,
)

logger = Logger(child=True)

OUTCOME_IGNORED = "ignored"
OUTCOME_FOREIGN_ORIGIN = "skipped_foreign_origin"
OUTCOME_SETTLED = "settled"
OUTCOME_ALREADY_SETTLED = "already_settled"


class PoisonRecordError(ValueError):
    """The record can never be settled as it is (names the bad attribute)."""


class RegionNotActiveError(RuntimeError):
    """This region does not hold the writer right now; the record must be retried."""


class WriterUnavailableError(RuntimeError):
    """The ledger writer failed earlier in this batch; fail fast, retry later."""


@dataclass(frozen=True, slots=True)
class Settlement:
    """Outcome of settling one order."""

    order_id: str
    inserted: bool
    marked_settled: bool


class SettlementService:
    """Processes the records of one invocation; build a new one per batch."""

    def __init__(
        self,
        orders: OrderRepository,
        control: ControlRepository,
        run_on_writer: Callable[[Callable[[Any], Any]], Any],
        ensure_schema: Callable[[], None],
        region: str,
        clock: Callable[[], str] = utc_now_iso,
    ) -> None:
        self._orders = orders
        self._control = control
        self._run_on_writer = run_on_writer
        self._ensure_schema = ensure_schema
        self._region = region
        self._clock = clock
        self._control_snapshot: ControlRecord | None = None
        self._control_read = False
        self._writer_error: str | None = None

    def process(self, record: DynamoDBRecord) -> str:
        """Handle one stream record; raising marks it as a batch item failure."""
        event_name = record.raw_event.get("eventName")
        if event_name not in ("INSERT", "MODIFY"):
            return OUTCOME_IGNORED
        stream = record.dynamodb
        image = stream.new_image if stream is not None else {}
        pk = image.get("pk")
        if image.get("sk") != ORDER_SK or not isinstance(pk, str) or not pk.startswith("ORDER#"):
            return OUTCOME_IGNORED
        if image.get("status") != STATUS_ACCEPTED:
            return OUTCOME_IGNORED
        origin = image.get("origin_region")
        if isinstance(origin, str) and origin and origin != self._region:
            logger.info(
                "skipping order of another origin (the mapping filter should have dropped it)",
                extra={"order_id": image.get("order_id"), "origin_region": origin},
            )
            return OUTCOME_FOREIGN_ORIGIN
        try:
            order = Order.from_item(image)
        except InvalidOrderError as exc:
            logger.error(
                "poison record: cannot settle",
                extra={"field": exc.field, "reason": str(exc), "pk": pk},
            )
            raise PoisonRecordError(str(exc)) from exc
        self._require_active()
        return OUTCOME_SETTLED if self.settle(order).inserted else OUTCOME_ALREADY_SETTLED

    def settle(self, order: Order) -> Settlement:
        """Write the ledger row (idempotent) and mark the order item settled."""
        if self._writer_error is not None:
            raise WriterUnavailableError(self._writer_error)
        settled_at = self._clock()
        entry = LedgerEntry(
            order_id=order.order_id,
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            quantity=order.quantity,
            limit_price=order.limit_price,
            origin_region=order.origin_region,
            settled_region=self._region,
            settled_at=settled_at,
            epoch=order.epoch,
        )
        try:
            self._ensure_schema()
            inserted = bool(
                self._run_on_writer(lambda connection: LedgerRepository(connection).insert(entry))
            )
        except Exception as exc:
            self._writer_error = f"{type(exc).__name__}: {exc}"
            logger.exception("ledger write failed", extra={"order_id": order.order_id})
            raise
        marked = self._orders.mark_settled(order.order_id, self._region, settled_at)
        logger.info(
            "order settled" if inserted else "order already in ledger",
            extra={"order_id": order.order_id, "marked_settled": marked},
        )
        return Settlement(order_id=order.order_id, inserted=inserted, marked_settled=marked)

    def _require_active(self) -> None:
        if not self._control_read:
            self._control_snapshot = self._control.get()
            self._control_read = True
        control = self._control_snapshot
        if control is None:
            raise RegionNotActiveError("no control record: no region may settle")
        if not control.accepts_writes_in(self._region):
            raise RegionNotActiveError(
                f"region {self._region} is {control.role_of(self._region)} "
                f"(active: {control.active_region}, state: {control.state}, "
                f"epoch: {control.epoch}); record will be retried"
            )
