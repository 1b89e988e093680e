"""Order items in the global table, and the data access for them.

Item layout (contract with the failover orchestrator and the drill)::

    pk = "ORDER#<order_id>"   sk = "ORDER"
    order_id, client_order_id, symbol, side, quantity (N), limit_price (N, canonical decimal),
    status ("ACCEPTED" then "SETTLED"), origin_region, created_at (ISO-8601 UTC), epoch (N)
    settled_region, settled_at            (added by the processor when it settles)

The order id is a UUIDv5 of the ``client_order_id``: a retried request maps to the same item,
so the conditional put ``attribute_not_exists(pk)`` is the idempotency record itself.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from trading_runtime.aws import error_code
from trading_runtime.control import (
    CONTROL_KEY,
    STATE_ACTIVE,
    ControlRecord,
    ControlRecordMissingError,
)
from trading_runtime.dynamo import deserialize_item, serialize_item, serialize_value

# Fixed namespace: changing it would give every retried client_order_id a new order id.
ORDER_ID_NAMESPACE = uuid.UUID("6f1c2a9e-3b7d-5c4e-9a8f-2d0b1e7c4a53")
ORDER_SK = "ORDER"
STATUS_ACCEPTED = "ACCEPTED"
STATUS_SETTLED = "SETTLED"
SIDES = ("BUY", "SELL")
MAX_QUANTITY = 10_000_000
MAX_PRICE_DECIMALS = 8
MAX_PRICE = Decimal("1000000000")  # 1e9: far above any listed price, far below float trouble
CLIENT_ORDER_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,64}")
SYMBOL_RE = re.compile(r"[A-Z0-9.]{1,12}")
ORDER_ID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TRANSACTION_ATTEMPTS = 3


def order_id_for(client_order_id: str) -> str:
    """The deterministic order id of a ``client_order_id`` (UUIDv5, lowercase, hyphenated)."""
    return str(uuid.uuid5(ORDER_ID_NAMESPACE, client_order_id))


def order_key(order_id: str) -> dict[str, Any]:
    """The DynamoDB key of an order item."""
    return {"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": ORDER_SK}}


def is_order_id(value: str) -> bool:
    """True for a canonical order id (lowercase hyphenated UUID)."""
    return ORDER_ID_RE.fullmatch(value) is not None


def format_decimal(value: Decimal) -> str:
    """Canonical plain-notation text of a decimal: ``Decimal("100.50")`` → ``"100.5"``."""
    text = format(value.normalize(), "f")
    return text


def utc_now_iso() -> str:
    """Now, ISO-8601 UTC with milliseconds and a ``Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class InvalidOrderError(ValueError):
    """An order item (or stream image) is malformed; ``field`` names the bad attribute."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class WriteFencedError(RuntimeError):
    """The control record changed between the read and the write: this region may not write."""

    def __init__(self, control: ControlRecord | None) -> None:
        super().__init__("write refused by the control record")
        self.control = control


class WriteContentionError(RuntimeError):
    """Concurrent transactions on the same order kept conflicting; the client should retry."""


@dataclass(frozen=True, slots=True)
class Order:
    """An order as stored in the table."""

    order_id: str
    client_order_id: str
    symbol: str
    side: str
    quantity: int
    limit_price: Decimal
    status: str
    origin_region: str
    created_at: str
    epoch: int

    def to_item(self) -> dict[str, Any]:
        """The DynamoDB item (attribute values)."""
        return serialize_item(
            {
                "pk": f"ORDER#{self.order_id}",
                "sk": ORDER_SK,
                "order_id": self.order_id,
                "client_order_id": self.client_order_id,
                "symbol": self.symbol,
                "side": self.side,
                "quantity": self.quantity,
                "limit_price": Decimal(format_decimal(self.limit_price)),
                "status": self.status,
                "origin_region": self.origin_region,
                "created_at": self.created_at,
                "epoch": self.epoch,
            }
        )

    def to_json(self) -> dict[str, Any]:
        """The API representation (prices as strings: JSON numbers would become floats)."""
        return {
            "order_id": self.order_id,
            "client_order_id": self.client_order_id,
            "symbol": self.symbol,
            "side": self.side,
            "quantity": self.quantity,
            "limit_price": format_decimal(self.limit_price),
            "status": self.status,
            "origin_region": self.origin_region,
            "created_at": self.created_at,
            "epoch": self.epoch,
        }

    def differences(self, other: OrderRequest) -> list[str]:
        """Names of the request fields on which ``other`` differs from this order."""
        diffs = []
        if self.symbol != other.symbol:
            diffs.append("symbol")
        if self.side != other.side:
            diffs.append("side")
        if self.quantity != other.quantity:
            diffs.append("quantity")
        if self.limit_price != other.limit_price:  # numeric: 10.50 == 10.5
            diffs.append("limit_price")
        return diffs

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Order:
        """Build and validate from a deserialized item or stream image.

        Raises :class:`InvalidOrderError` naming the first bad attribute, so the processor can
        fail exactly that record.
        """

        def text(name: str) -> str:
            value = item.get(name)
            if not isinstance(value, str) or not value:
                raise InvalidOrderError(name, "missing or not a string")
            return value

        def integer(name: str) -> int:
            value = item.get(name)
            if isinstance(value, bool) or not isinstance(value, int | Decimal):
                raise InvalidOrderError(name, "missing or not a number")
            if isinstance(value, Decimal) and (not value.is_finite() or value != int(value)):
                raise InvalidOrderError(name, "not an integer")
            return int(value)

        order_id = text("order_id")
        if not is_order_id(order_id):
            raise InvalidOrderError("order_id", "not a canonical order id")
        side = text("side")
        if side not in SIDES:
            raise InvalidOrderError("side", f"must be one of {', '.join(SIDES)}")
        symbol = text("symbol")
        if SYMBOL_RE.fullmatch(symbol) is None:
            raise InvalidOrderError("symbol", "not a valid symbol")
        quantity = integer("quantity")
        if not 0 < quantity <= MAX_QUANTITY:
            raise InvalidOrderError("quantity", f"must be in 1..{MAX_QUANTITY}")
        raw_price = item.get("limit_price")
        try:
            limit_price = Decimal(str(raw_price)) if raw_price is not None else None
        except InvalidOperation:
            limit_price = None
        if limit_price is None or not limit_price.is_finite() or limit_price <= 0:
            raise InvalidOrderError("limit_price", "missing or not a positive decimal")
        return cls(
            order_id=order_id,
            client_order_id=text("client_order_id"),
            symbol=symbol,
            side=side,
            quantity=quantity,
            limit_price=limit_price,
            status=text("status"),
            origin_region=text("origin_region"),
            created_at=text("created_at"),
            epoch=integer("epoch"),
        )


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A validated ``POST /orders`` body."""

    client_order_id: str
    symbol: str
    side: str
    quantity: int
    limit_price: Decimal

    @property
    def order_id(self) -> str:
        """The order id this request maps to."""
        return order_id_for(self.client_order_id)

    def accept(self, region: str, epoch: int, created_at: str | None = None) -> Order:
        """The order item this request creates in ``region`` under control ``epoch``."""
        return Order(
            order_id=self.order_id,
            client_order_id=self.client_order_id,
            symbol=self.symbol,
            side=self.side,
            quantity=self.quantity,
            limit_price=self.limit_price,
            status=STATUS_ACCEPTED,
            origin_region=region,
            created_at=created_at or utc_now_iso(),
            epoch=epoch,
        )


@dataclass(frozen=True, slots=True)
class CreateResult:
    """Outcome of :meth:`OrderRepository.create`: the stored order and whether it is new."""

    order: Order
    created: bool


class OrderRepository:
    """Data access for order items (low-level DynamoDB client)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def get(self, order_id: str) -> Order | None:
        """The order, strongly consistent on the local replica, or ``None``."""
        response = self._client.get_item(
            TableName=self._table_name, Key=order_key(order_id), ConsistentRead=True
        )
        item = response.get("Item")
        return Order.from_item(deserialize_item(item)) if item else None

    def create(self, order: Order, region: str) -> CreateResult:
        """Put ``order`` unless it exists, fenced by the control record in one transaction.

        The transaction holds a ``ConditionCheck`` that the control record still names
        ``region`` as active, in state ``active``, at ``order.epoch`` — closing the window
        between the API's read of the control record and this write. It is atomic on the
        local replica only; see :mod:`trading_runtime.control` for the replication window.

        Raises :class:`WriteFencedError` when the fence fails and
        :class:`WriteContentionError` when concurrent transactions keep conflicting.
        """
        request = {
            "TransactItems": [
                {
                    "ConditionCheck": {
                        "TableName": self._table_name,
                        "Key": CONTROL_KEY,
                        "ConditionExpression": (
                            "active_region = :region AND #state = :active AND epoch = :epoch"
                        ),
                        "ExpressionAttributeNames": {"#state": "state"},
                        "ExpressionAttributeValues": {
                            ":region": serialize_value(region),
                            ":active": serialize_value(STATE_ACTIVE),
                            ":epoch": serialize_value(order.epoch),
                        },
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {
                    "Put": {
                        "TableName": self._table_name,
                        "Item": order.to_item(),
                        "ConditionExpression": "attribute_not_exists(pk)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ]
        }
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                self._client.transact_write_items(**request)
                return CreateResult(order=order, created=True)
            except Exception as exc:
                if error_code(exc) != "TransactionCanceledException":
                    raise
                reasons = exc.response.get("CancellationReasons") or []  # type: ignore[attr-defined]
                codes = [reason.get("Code") for reason in reasons]
            if codes and codes[0] == "ConditionalCheckFailed":
                control_item = reasons[0].get("Item")
                raise WriteFencedError(_control_or_none(control_item))
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                existing_item = reasons[1].get("Item")
                existing = (
                    Order.from_item(deserialize_item(existing_item))
                    if existing_item
                    else self.get(order.order_id)
                )
                if existing is not None:
                    return CreateResult(order=existing, created=False)
            # TransactionConflict: another request for the same client_order_id (or the
            # orchestrator on the control record) is mid-transaction. Back off briefly.
            time.sleep(0.05 * (attempt + 1))
        existing = self.get(order.order_id)
        if existing is not None:
            return CreateResult(order=existing, created=False)
        raise WriteContentionError(f"transaction kept conflicting: {codes}")

    def mark_settled(self, order_id: str, settled_region: str, settled_at: str) -> bool:
        """Move the order from ``ACCEPTED`` to ``SETTLED``; ``False`` if it already moved on."""
        try:
            self._client.update_item(
                TableName=self._table_name,
                Key=order_key(order_id),
                UpdateExpression=("SET #status = :settled, settled_region = :region, settled_at = :at"),
                ConditionExpression="#status = :accepted",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":settled": serialize_value(STATUS_SETTLED),
                    ":accepted": serialize_value(STATUS_ACCEPTED),
                    ":region": serialize_value(settled_region),
                    ":at": serialize_value(settled_at),
                },
            )
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True


def _control_or_none(item: dict[str, Any] | None) -> ControlRecord | None:
    if not item:
        return None
    try:
        return ControlRecord.from_item(deserialize_item(item))
    except ControlRecordMissingError:
        return None
