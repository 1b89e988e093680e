"""The ledger processor (SPEC R2/R4): moto's stream records in, a real PostgreSQL ledger out."""

from __future__ import annotations

import copy
import threading
from decimal import Decimal
from typing import Any

import pg8000.native
import pytest
from trading_runtime.ledger import LedgerEntry, LedgerRepository, migrate

PRIMARY = "us-east-1"
SECONDARY = "us-east-2"


def place(api, client_order_id: str, **overrides: Any) -> str:
    body = {
        "client_order_id": client_order_id,
        "symbol": "MSFT",
        "side": "SELL",
        "quantity": 25,
        "limit_price": "410.125",
    }
    body.update(overrides)
    response = api("POST", "/orders", body)
    assert response.status == 201, response.body
    return response.body["order_id"]


def order_records(env) -> list[dict[str, Any]]:
    """Stream records of order items only (the control record is on the stream too)."""
    return [
        r
        for r in env.stream_records()
        if r["dynamodb"]["Keys"]["pk"]["S"].startswith("ORDER#") and r["eventName"] == "INSERT"
    ]


def ledger_rows(postgres) -> list[list[Any]]:
    conn = pg8000.native.Connection(**postgres.connect_kwargs())
    try:
        if conn.run("SELECT to_regclass('ledger')")[0][0] is None:
            return []
        return conn.run(
            "SELECT CAST(order_id AS text), symbol, side, quantity, limit_price, origin_region,"
            " settled_region, epoch FROM ledger ORDER BY order_id"
        )
    finally:
        conn.close()


def run_batch(processor_handler, lambda_context, records) -> list[str]:
    response = processor_handler.lambda_handler({"Records": records}, lambda_context)
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def test_accepted_order_is_settled_into_the_ledger(env, api, processor_handler, lambda_context, clean_db):
    env.put_control(active_region=PRIMARY, epoch=5)
    order_id = place(api, "settle-1")

    failures = run_batch(processor_handler, lambda_context, env.stream_records())

    assert failures == []
    assert ledger_rows(clean_db) == [
        [order_id, "MSFT", "SELL", 25, Decimal("410.12500000"), PRIMARY, PRIMARY, 5]
    ]
    item = env.get_order_item(order_id)
    assert item["status"] == {"S": "SETTLED"}
    assert item["settled_region"] == {"S": PRIMARY}
    assert item["settled_at"]["S"].endswith("Z")


def test_redelivered_batch_settles_nothing_twice(env, api, processor_handler, lambda_context, clean_db):
    env.put_control(active_region=PRIMARY)
    order_id = place(api, "settle-twice")
    records = order_records(env)
    assert run_batch(processor_handler, lambda_context, records) == []
    settled_at = env.get_order_item(order_id)["settled_at"]

    # Streams deliver at least once: the same INSERT again, then every record including
    # the processor's own SETTLED update.
    assert run_batch(processor_handler, lambda_context, records) == []
    assert run_batch(processor_handler, lambda_context, env.stream_records()) == []

    assert [row[0] for row in ledger_rows(clean_db)] == [order_id]
    assert env.get_order_item(order_id)["settled_at"] == settled_at


POISONS = {
    "missing-order-id": lambda image: image.pop("order_id"),
    "fractional-quantity": lambda image: image.update(quantity={"N": "1.5"}),
    "negative-quantity": lambda image: image.update(quantity={"N": "-3"}),
    "quantity-as-text": lambda image: image.update(quantity={"S": "many"}),
    "missing-limit-price": lambda image: image.pop("limit_price"),
    "unknown-side": lambda image: image.update(side={"S": "SHORT"}),
    "missing-origin-region": lambda image: image.pop("origin_region"),
    "origin-region-as-number": lambda image: image.update(origin_region={"N": "1"}),
    "quantity-as-list": lambda image: image.update(quantity={"L": [{"N": "1"}]}),
    "price-not-a-number": lambda image: image.update(limit_price={"N": "NaN"}),
    "unknown-attribute-type": lambda image: image.update(quantity={"Q": "1"}),
    "epoch-missing": lambda image: image.pop("epoch"),
}


@pytest.mark.parametrize("poison", sorted(POISONS))
def test_poisoned_record_fails_alone(env, api, processor_handler, lambda_context, clean_db, poison):
    env.put_control(active_region=PRIMARY)
    first = place(api, "batch-1")
    place(api, "batch-2")
    third = place(api, "batch-3")
    records = order_records(env)
    poisoned = copy.deepcopy(records[1])
    POISONS[poison](poisoned["dynamodb"]["NewImage"])
    records[1] = poisoned

    failures = run_batch(processor_handler, lambda_context, records)

    assert failures == [poisoned["dynamodb"]["SequenceNumber"]]
    assert sorted(row[0] for row in ledger_rows(clean_db)) == sorted([first, third])


def test_record_arriving_while_passive_is_retried_until_active(
    env, api, processor_handler, lambda_context, clean_db
):
    env.put_control(active_region=PRIMARY, epoch=1)
    order_id = place(api, "early-1")
    records = order_records(env)
    # Before the stream reaches the processor, a switchover hands the writer to us-east-2.
    env.put_control(active_region=SECONDARY, epoch=2)

    failures = run_batch(processor_handler, lambda_context, records)

    assert failures == [records[0]["dynamodb"]["SequenceNumber"]]
    assert ledger_rows(clean_db) == []
    assert env.get_order_item(order_id)["status"] == {"S": "ACCEPTED"}

    env.put_control(active_region=PRIMARY, state="failing_over", epoch=3)
    assert run_batch(processor_handler, lambda_context, records) == [records[0]["dynamodb"]["SequenceNumber"]]

    env.put_control(active_region=PRIMARY, epoch=4)
    assert run_batch(processor_handler, lambda_context, records) == []
    assert [row[0] for row in ledger_rows(clean_db)] == [order_id]
    assert env.get_order_item(order_id)["status"] == {"S": "SETTLED"}


def test_missing_control_record_fails_the_record(env, api, processor_handler, lambda_context, clean_db):
    env.put_control(active_region=PRIMARY)
    place(api, "no-control")
    records = order_records(env)
    env.delete_control()

    failures = run_batch(processor_handler, lambda_context, records)

    assert failures == [records[0]["dynamodb"]["SequenceNumber"]]
    assert ledger_rows(clean_db) == []


def test_order_of_another_origin_is_skipped_as_success(env, api, processor_handler, lambda_context, clean_db):
    env.put_control(active_region=PRIMARY)
    order_id = place(api, "foreign-1")
    record = copy.deepcopy(order_records(env)[0])
    record["dynamodb"]["NewImage"]["origin_region"] = {"S": SECONDARY}

    failures = run_batch(processor_handler, lambda_context, [record])

    assert failures == []
    assert ledger_rows(clean_db) == []
    assert env.get_order_item(order_id)["status"] == {"S": "ACCEPTED"}


def test_records_that_are_not_accepted_orders_are_ignored(
    env, api, processor_handler, lambda_context, clean_db
):
    env.put_control(active_region=PRIMARY)
    place(api, "ignored-1")
    order = order_records(env)[0]
    removal = copy.deepcopy(order)
    removal["eventName"] = "REMOVE"
    removal["dynamodb"]["OldImage"] = removal["dynamodb"].pop("NewImage")
    settled = copy.deepcopy(order)
    settled["eventName"] = "MODIFY"
    settled["dynamodb"]["NewImage"]["status"] = {"S": "SETTLED"}
    control = next(r for r in env.stream_records() if r["dynamodb"]["Keys"]["pk"]["S"] == "CONTROL")
    # Even a passive region must not fail on these: nothing to settle, nothing to retry.
    env.put_control(active_region=SECONDARY, epoch=2)

    failures = run_batch(processor_handler, lambda_context, [removal, settled, control])

    assert failures == []
    assert ledger_rows(clean_db) == []


def test_unreachable_writer_fails_every_settling_record(
    env, api, processor_handler, lambda_context, clean_db
):
    env.put_control(active_region=PRIMARY)
    for n in range(3):
        place(api, f"no-writer-{n}")
    records = order_records(env)
    env.set_env("DB_WRITER_ENDPOINT", "127.0.0.2")  # nothing listens there

    failures = run_batch(processor_handler, lambda_context, records)

    assert failures == [r["dynamodb"]["SequenceNumber"] for r in records]
    assert ledger_rows(clean_db) == []


def test_migration_runs_twice_without_error(clean_db):
    conn = pg8000.native.Connection(**clean_db.connect_kwargs())
    try:
        assert migrate(conn) == [1]
        assert migrate(conn) == []
        columns = conn.run(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_name = 'ledger' ORDER BY ordinal_position"
        )
        primary_key = conn.run(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a"
            " ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
            " WHERE i.indrelid = 'ledger'::regclass AND i.indisprimary"
        )
        versions = conn.run("SELECT version, description FROM schema_migrations")
    finally:
        conn.close()
    assert columns == [
        ["order_id", "uuid"],
        ["client_order_id", "text"],
        ["symbol", "text"],
        ["side", "text"],
        ["quantity", "bigint"],
        ["limit_price", "numeric"],
        ["origin_region", "text"],
        ["settled_region", "text"],
        ["settled_at", "timestamp with time zone"],
        ["epoch", "bigint"],
    ]
    assert primary_key == [["order_id"]]
    assert versions == [[1, "create ledger"]]


def test_concurrent_migrations_apply_once(clean_db):
    connections = [pg8000.native.Connection(**clean_db.connect_kwargs()) for _ in range(4)]
    barrier = threading.Barrier(len(connections))
    results: list[list[int]] = []
    lock = threading.Lock()

    def worker(conn):
        barrier.wait()
        applied = migrate(conn)
        with lock:
            results.append(applied)

    threads = [threading.Thread(target=worker, args=(c,)) for c in connections]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    for c in connections:
        c.close()
    assert sorted(results) == [[], [], [], [1]]


def test_fifty_concurrent_settlements_write_one_ledger_row(clean_db):
    # The proof rests on PostgreSQL's unique key, across 50 independent connections (as 50
    # Lambda containers would hold), not on DynamoDB conditional writes.
    setup = pg8000.native.Connection(**clean_db.connect_kwargs())
    migrate(setup)
    setup.close()
    entry = LedgerEntry(
        order_id="0b5f3c3e-8f55-5d6c-9a61-2f1f0f7c9a10",
        client_order_id="race-1",
        symbol="NVDA",
        side="BUY",
        quantity=3,
        limit_price=Decimal("123.45678901"),
        origin_region=PRIMARY,
        settled_region=PRIMARY,
        settled_at="2025-01-01T00:00:00.000Z",
        epoch=1,
    )
    connections = [pg8000.native.Connection(**clean_db.connect_kwargs()) for _ in range(50)]
    barrier = threading.Barrier(len(connections))
    outcomes: list[bool] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def settle(conn):
        try:
            barrier.wait()
            inserted = LedgerRepository(conn).insert(entry)
            with lock:
                outcomes.append(inserted)
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=settle, args=(c,)) for c in connections]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    for c in connections:
        c.close()

    assert errors == []
    assert sorted(outcomes) == [False] * 49 + [True]
    assert ledger_rows(clean_db) == [
        [entry.order_id, "NVDA", "BUY", 3, Decimal("123.45678901"), PRIMARY, PRIMARY, 1]
    ]


def test_settlement_survives_a_dropped_writer_connection(
    env, api, processor_handler, lambda_context, clean_db
):
    env.put_control(active_region=PRIMARY)
    first = place(api, "reconnect-1")
    assert run_batch(processor_handler, lambda_context, order_records(env)) == []
    admin = clean_db.admin_connection()
    try:
        admin.run(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :user",
            user=clean_db.user,
        )
    finally:
        admin.close()
    second = place(api, "reconnect-2")

    failures = run_batch(processor_handler, lambda_context, order_records(env))

    assert failures == []
    assert sorted(row[0] for row in ledger_rows(clean_db)) == sorted([first, second])
