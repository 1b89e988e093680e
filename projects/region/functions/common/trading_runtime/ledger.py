"""The settlement ledger in Aurora PostgreSQL: schema migrations and the idempotent insert.

``ledger.order_id`` is the primary key, so settling an order is
``INSERT … ON CONFLICT (order_id) DO NOTHING``: however many processors (retries, duplicate
stream deliveries, a re-stamped order after a failover) settle the same order at the same time,
exactly one row exists and exactly one caller is told it inserted it.

Migrations are numbered, each idempotent on its own (``IF NOT EXISTS``), applied in one
transaction under an advisory lock (two cold containers must not race on the catalog) and
recorded in ``schema_migrations``; running them again is a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from trading_runtime import database
from trading_runtime.settings import RuntimeSettings

# Arbitrary but fixed: the advisory lock key that serialises migrations across containers.
MIGRATION_LOCK_KEY = 7_242_019_151

MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (
        1,
        "create ledger",
        (
            """
            CREATE TABLE IF NOT EXISTS ledger (
                order_id        uuid           PRIMARY KEY,
                client_order_id text           NOT NULL,
                symbol          text           NOT NULL,
                side            text           NOT NULL CHECK (side IN ('BUY', 'SELL')),
                quantity        bigint         NOT NULL CHECK (quantity > 0),
                limit_price     numeric(20, 8) NOT NULL CHECK (limit_price > 0),
                origin_region   text           NOT NULL,
                settled_region  text           NOT NULL,
                settled_at      timestamptz    NOT NULL,
                epoch           bigint         NOT NULL
            )
            """,
            "CREATE INDEX IF NOT EXISTS ledger_settled_at_idx ON ledger (settled_at)",
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One settled order."""

    order_id: str
    client_order_id: str
    symbol: str
    side: str
    quantity: int
    limit_price: Decimal
    origin_region: str
    settled_region: str
    settled_at: str
    epoch: int


def migrate(connection: Any) -> list[int]:
    """Apply the missing migrations; returns the versions applied by this call."""
    applied: list[int] = []
    connection.run("START TRANSACTION")
    try:
        connection.run("SELECT pg_advisory_xact_lock(:key)", key=MIGRATION_LOCK_KEY)
        connection.run(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY,"
            " description text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row[0] for row in connection.run("SELECT version FROM schema_migrations")}
        for version, description, statements in MIGRATIONS:
            if version in done:
                continue
            for statement in statements:
                connection.run(statement)
            connection.run(
                "INSERT INTO schema_migrations (version, description) VALUES (:v, :d)",
                v=version,
                d=description,
            )
            applied.append(version)
        connection.run("COMMIT")
    except Exception:
        connection.run("ROLLBACK")
        raise
    return applied


_schema_ready = False


def ensure_schema(settings: RuntimeSettings) -> None:
    """Run the migrations on the writer once per container (lazily, on first settlement)."""
    global _schema_ready
    if not _schema_ready:
        database.run_with_reconnect(settings, database.WRITER, migrate)
        _schema_ready = True


def reset() -> None:
    """Forget that the schema was checked (tests start from an empty database)."""
    global _schema_ready
    _schema_ready = False


class LedgerRepository:
    """Data access for the ``ledger`` table on one connection."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def insert(self, entry: LedgerEntry) -> bool:
        """Insert ``entry`` unless its order is already in the ledger; ``True`` if inserted."""
        rows = self._connection.run(
            """
            INSERT INTO ledger (order_id, client_order_id, symbol, side, quantity, limit_price,
                                origin_region, settled_region, settled_at, epoch)
            VALUES (CAST(:order_id AS uuid), :client_order_id, :symbol, :side, :quantity,
                    CAST(:limit_price AS numeric), :origin_region, :settled_region,
                    CAST(:settled_at AS timestamptz), :epoch)
            ON CONFLICT (order_id) DO NOTHING
            RETURNING order_id
            """,
            order_id=entry.order_id,
            client_order_id=entry.client_order_id,
            symbol=entry.symbol,
            side=entry.side,
            quantity=entry.quantity,
            limit_price=str(entry.limit_price),
            origin_region=entry.origin_region,
            settled_region=entry.settled_region,
            settled_at=entry.settled_at,
            epoch=entry.epoch,
        )
        return len(rows) == 1
