"""POST /orders and GET /orders/{id} against moto (SPEC R4)."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from trading_runtime import aws
from trading_runtime.orders import (
    ORDER_ID_NAMESPACE,
    OrderRepository,
    OrderRequest,
    WriteFencedError,
)

from tests.handlers.conftest import api_event, call_api

PRIMARY = "us-east-1"
SECONDARY = "us-east-2"


def order_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "client_order_id": "desk7:2025-01-01:000123",
        "symbol": "AAPL",
        "side": "BUY",
        "quantity": 100,
        "limit_price": "187.25",
    }
    body.update(overrides)
    return body


def without(field: str) -> dict[str, Any]:
    body = order_body()
    del body[field]
    return body


BAD_BODIES = [
    # (case id, raw body, expected status, field the error must name)
    ("not-json", "{", 400, "body"),
    ("empty", "", 400, "body"),
    ("json-array", "[]", 400, "body"),
    ("json-string", '"order"', 400, "body"),
    ("nan-constant", '{"quantity": NaN}', 400, "body"),
    ("duplicate-key", '{"quantity": 1, "quantity": 2}', 400, "quantity"),
    ("missing-client-order-id", json.dumps(without("client_order_id")), 422, "client_order_id"),
    ("missing-limit-price", json.dumps(without("limit_price")), 422, "limit_price"),
    ("extra-field", json.dumps(order_body(account="X1")), 422, "account"),
    (
        "quantity-float",
        '{"client_order_id": "a", "symbol": "A", "side": "BUY", "quantity": 1.5, "limit_price": "1"}',
        422,
        "quantity",
    ),
    ("quantity-float-integral", json.dumps(order_body()).replace("100", "100.0"), 422, "quantity"),
    ("quantity-exponent", json.dumps(order_body()).replace("100", "1e2"), 422, "quantity"),
    ("quantity-string", json.dumps(order_body(quantity="100")), 422, "quantity"),
    ("quantity-bool", json.dumps(order_body(quantity=True)), 422, "quantity"),
    ("quantity-zero", json.dumps(order_body(quantity=0)), 422, "quantity"),
    ("quantity-negative", json.dumps(order_body(quantity=-5)), 422, "quantity"),
    ("quantity-too-large", json.dumps(order_body(quantity=10_000_001)), 422, "quantity"),
    # Over Python's 4300-digit int() limit: was "body is not valid JSON: Exceeds the limit …".
    ("quantity-5000-digits", json.dumps(order_body()).replace("100", "1" + "0" * 5000), 422, "quantity"),
    (
        "price-5000-digit-integer",
        json.dumps(order_body()).replace('"187.25"', "9" * 5000),
        422,
        "limit_price",
    ),
    ("side-unknown", json.dumps(order_body(side="HOLD")), 422, "side"),
    ("side-lowercase", json.dumps(order_body(side="buy")), 422, "side"),
    ("symbol-lowercase", json.dumps(order_body(symbol="aapl")), 422, "symbol"),
    ("symbol-too-long", json.dumps(order_body(symbol="ABCDEFGHIJKLM")), 422, "symbol"),
    ("symbol-empty", json.dumps(order_body(symbol="")), 422, "symbol"),
    ("symbol-number", json.dumps(order_body(symbol=42)), 422, "symbol"),
    ("client-order-id-empty", json.dumps(order_body(client_order_id="")), 422, "client_order_id"),
    ("client-order-id-space", json.dumps(order_body(client_order_id="a b")), 422, "client_order_id"),
    ("client-order-id-too-long", json.dumps(order_body(client_order_id="x" * 65)), 422, "client_order_id"),
    ("price-zero", json.dumps(order_body(limit_price="0")), 422, "limit_price"),
    ("price-negative-number", json.dumps(order_body(limit_price=-1)), 422, "limit_price"),
    ("price-nine-decimals", json.dumps(order_body(limit_price="1.123456789")), 422, "limit_price"),
    (
        "price-nine-decimals-number",
        json.dumps(order_body()).replace('"187.25"', "0.000000001"),
        422,
        "limit_price",
    ),
    ("price-text", json.dumps(order_body(limit_price="cheap")), 422, "limit_price"),
    ("price-exponent-text", json.dumps(order_body(limit_price="1e5")), 422, "limit_price"),
    ("price-bool", json.dumps(order_body(limit_price=True)), 422, "limit_price"),
    ("price-null", json.dumps(order_body(limit_price=None)), 422, "limit_price"),
    ("price-too-large", json.dumps(order_body(limit_price="1000000000.01")), 422, "limit_price"),
    # Numbers the default decimal context would round: 0 (stored at price 0), overflow (500),
    # a fraction rounded to 28 digits (stored at price 1).
    (
        "price-underflow-number",
        json.dumps(order_body()).replace('"187.25"', "1e-999999999"),
        422,
        "limit_price",
    ),
    (
        "price-overflow-number",
        json.dumps(order_body()).replace('"187.25"', "1e999999999"),
        422,
        "limit_price",
    ),
    ("price-exponent-number", json.dumps(order_body()).replace('"187.25"', "1e5"), 422, "limit_price"),
    (
        "price-long-fraction",
        json.dumps(order_body()).replace('"187.25"', "1." + "0" * 40 + "1"),
        422,
        "limit_price",
    ),
]


@pytest.mark.parametrize(
    ("raw_body", "status", "field"),
    [case[1:] for case in BAD_BODIES],
    ids=[case[0] for case in BAD_BODIES],
)
def test_bad_body_is_refused_naming_the_field(env, api, raw_body, status, field):
    env.put_control(active_region=PRIMARY)

    response = api("POST", "/orders", raw_body=raw_body)

    assert response.status == status
    assert response.headers["content-type"] == "application/json"
    assert response.body["error"] == "invalid_request"
    assert response.body["field"] == field
    assert field in response.body["message"]
    assert env.order_items() == []


def test_create_returns_201_and_stores_the_order(env, api):
    env.put_control(active_region=PRIMARY, epoch=7)

    response = api("POST", "/orders", order_body())

    expected_id = str(uuid.uuid5(ORDER_ID_NAMESPACE, "desk7:2025-01-01:000123"))
    assert response.status == 201
    assert response.headers["location"] == f"/orders/{expected_id}"
    body = response.body
    assert {k: v for k, v in body.items() if k != "created_at"} == {
        "order_id": expected_id,
        "client_order_id": "desk7:2025-01-01:000123",
        "symbol": "AAPL",
        "side": "BUY",
        "quantity": 100,
        "limit_price": "187.25",
        "status": "ACCEPTED",
        "origin_region": PRIMARY,
        "epoch": 7,
    }
    assert body["created_at"].endswith("Z")
    item = env.get_order_item(expected_id)
    assert item == {
        "pk": {"S": f"ORDER#{expected_id}"},
        "sk": {"S": "ORDER"},
        "order_id": {"S": expected_id},
        "client_order_id": {"S": "desk7:2025-01-01:000123"},
        "symbol": {"S": "AAPL"},
        "side": {"S": "BUY"},
        "quantity": {"N": "100"},
        "limit_price": {"N": "187.25"},
        "status": {"S": "ACCEPTED"},
        "origin_region": {"S": PRIMARY},
        "created_at": {"S": body["created_at"]},
        "epoch": {"N": "7"},
    }


def test_numeric_price_never_passes_through_float(env, api):
    env.put_control(active_region=PRIMARY)
    # As a float this is 100000000.0; parsed as Decimal it keeps all 16 digits.
    raw = json.dumps(order_body(limit_price="X")).replace('"X"', "99999999.99999999")

    response = api("POST", "/orders", raw_body=raw)

    assert response.status == 201
    assert response.body["limit_price"] == "99999999.99999999"
    item = env.get_order_item(response.body["order_id"])
    assert item["limit_price"] == {"N": "99999999.99999999"}


def test_fifty_retries_create_exactly_one_order(env, api):
    env.put_control(active_region=PRIMARY)

    responses = [api("POST", "/orders", order_body()) for _ in range(50)]

    assert [r.status for r in responses] == [201] + [200] * 49
    assert {r.body["order_id"] for r in responses} == {responses[0].body["order_id"]}
    assert all(r.headers["idempotent-replayed"] == "true" for r in responses[1:])
    assert "idempotent-replayed" not in responses[0].headers
    assert all(r.body == responses[0].body for r in responses[1:])
    orders = env.order_items()
    assert len(orders) == 1
    assert orders[0]["order_id"] == {"S": responses[0].body["order_id"]}
    assert len(env.scan()) == 2  # the order and the control record, nothing else


def test_concurrent_identical_posts_create_exactly_one_order(env, api, monkeypatch):
    # DynamoDB applies each conditional write atomically; moto checks and writes without a
    # lock, so two threads could both pass attribute_not_exists. Serialise its writes as
    # DynamoDB does; the race left is the handler's own (read, transact, re-read).
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()  # transact_write_items calls put_item
    for name in ("put_item", "update_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        def atomic(self, *args, __original=original, **kwargs):
            with lock:
                return __original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, atomic)
    env.put_control(active_region=PRIMARY)
    start = threading.Barrier(16)

    def post(_: int) -> Any:
        start.wait()
        return api("POST", "/orders", order_body())

    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(post, range(16)))

    statuses = sorted(r.status for r in responses)
    assert statuses == [200] * 15 + [201]
    assert len({r.body["order_id"] for r in responses}) == 1
    assert len(env.order_items()) == 1


def test_replay_compares_prices_numerically(env, api):
    env.put_control(active_region=PRIMARY)
    first = api("POST", "/orders", order_body(limit_price="187.25"))

    replay = api("POST", "/orders", raw_body=json.dumps(order_body()).replace('"187.25"', "187.250"))

    assert (first.status, replay.status) == (201, 200)
    assert replay.body["order_id"] == first.body["order_id"]


def test_same_client_order_id_with_different_body_is_409(env, api):
    env.put_control(active_region=PRIMARY)
    first = api("POST", "/orders", order_body())

    response = api("POST", "/orders", order_body(quantity=101, limit_price="187.30"))

    assert response.status == 409
    assert response.body["error"] == "idempotency_conflict"
    assert response.body["field"] == "client_order_id"
    assert response.body["conflicting_fields"] == ["quantity", "limit_price"]
    assert response.body["order_id"] == first.body["order_id"]
    assert "quantity, limit_price" in response.body["message"]
    item = env.get_order_item(first.body["order_id"])
    assert (item["quantity"], item["limit_price"]) == ({"N": "100"}, {"N": "187.25"})


@pytest.mark.parametrize(
    ("active_region", "state", "error", "retry_after"),
    [
        (SECONDARY, "active", "region_not_active", "60"),
        (PRIMARY, "failing_over", "failover_in_progress", "30"),
        (SECONDARY, "failing_over", "failover_in_progress", "30"),
    ],
    ids=["passive-region", "active-region-failing-over", "passive-region-failing-over"],
)
def test_fenced_region_refuses_writes_with_503(env, api, active_region, state, error, retry_after):
    env.put_control(active_region=active_region, state=state, epoch=4)

    response = api("POST", "/orders", order_body())

    assert response.status == 503
    assert response.headers["retry-after"] == retry_after
    assert response.body["error"] == error
    assert response.body["region"] == PRIMARY
    assert response.body["active_region"] == active_region
    assert active_region in response.body["message"]
    assert env.order_items() == []


def test_missing_control_record_refuses_writes_as_not_configured(env, api):
    response = api("POST", "/orders", order_body())

    assert response.status == 503
    assert response.headers["retry-after"] == "60"
    assert response.body["error"] == "not_configured"
    assert response.body["active_region"] is None
    assert "control record" in response.body["message"]
    assert env.order_items() == []


def test_transaction_fence_refuses_a_write_with_a_stale_epoch(env):
    # The API read epoch 1; the orchestrator moved the control record on before the write.
    env.put_control(active_region=PRIMARY, epoch=2)
    repository = OrderRepository(aws.dynamodb(), "trading-test-orders")
    order = OrderRequest("stale-1", "MSFT", "SELL", 5, Decimal("410")).accept(PRIMARY, epoch=1)

    with pytest.raises(WriteFencedError) as caught:
        repository.create(order, PRIMARY)

    assert caught.value.control is not None
    assert (caught.value.control.active_region, caught.value.control.epoch) == (PRIMARY, 2)
    assert env.order_items() == []


def test_get_order_200_then_404_and_400(env, api):
    env.put_control(active_region=PRIMARY)
    created = api("POST", "/orders", order_body())
    order_id = created.body["order_id"]

    found = api("GET", f"/orders/{order_id}")
    missing = api("GET", f"/orders/{uuid.uuid4()}")
    malformed = api("GET", "/orders/not-an-id")
    uppercase = api("GET", f"/orders/{order_id.upper()}")

    assert found.status == 200
    assert found.body == created.body
    assert missing.status == 404
    assert missing.body["error"] == "not_found"
    assert (malformed.status, malformed.body["field"]) == (400, "id")
    assert (uppercase.status, uppercase.body["field"]) == (400, "id")


def test_get_order_works_in_a_passive_region(env, api):
    env.put_control(active_region=PRIMARY)
    created = api("POST", "/orders", order_body())
    env.put_control(active_region=SECONDARY, epoch=2)

    response = api("GET", f"/orders/{created.body['order_id']}")

    assert response.status == 200
    assert response.body["order_id"] == created.body["order_id"]


def test_unknown_route_is_a_json_404(env, api):
    response = api("GET", "/accounts")

    assert response.status == 404
    assert response.body == {"error": "not_found", "message": "no such route: /accounts"}


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/orders", "POST"),
        ("GET", "/orders", "POST"),
        ("PUT", "/orders/0b0e6a4e-3b8e-5c1e-9a51-7c0a0e3f1f11", "GET"),
        ("POST", "/health", "GET"),
        ("DELETE", "/health/active", "GET"),
    ],
)
def test_wrong_method_on_a_known_path_is_405_with_allow(env, api, method, path, allowed):
    response = api(method, path, raw_body="{}")

    assert response.status == 405
    assert response.headers["allow"] == allowed
    assert response.body == {
        "error": "method_not_allowed",
        "field": "method",
        "message": f"{method} {path} is not allowed; allowed: {allowed}",
    }


@pytest.mark.parametrize(
    ("content_type", "raw_body", "base64_encoded", "status", "field"),
    [
        ("text/plain", json.dumps(order_body()), False, 415, "Content-Type"),
        ("application/x-www-form-urlencoded", "symbol=AAPL", False, 415, "Content-Type"),
        (None, json.dumps(order_body()), False, 415, "Content-Type"),
        ("application/json", "!!!not-base64", True, 400, "body"),
        ("application/json", base64.b64encode(b"\xff\xfe{").decode(), True, 400, "body"),
        ("application/json", base64.b64encode(b"[]").decode(), True, 400, "body"),
    ],
    ids=["text-plain", "form", "no-content-type", "bad-base64", "base64-not-utf8", "base64-array"],
)
def test_bad_transport_is_refused_naming_it(
    env, api_handler, lambda_context, content_type, raw_body, base64_encoded, status, field
):
    env.put_control(active_region=PRIMARY)
    event = api_event("POST", "/orders", raw_body)
    event["isBase64Encoded"] = base64_encoded
    del event["headers"]["Content-Type"], event["multiValueHeaders"]["Content-Type"]
    if content_type is not None:
        event["headers"]["Content-Type"] = content_type
        event["multiValueHeaders"]["Content-Type"] = [content_type]

    response = call_api(api_handler, lambda_context, event)

    assert (response.status, response.body["error"], response.body["field"]) == (
        status,
        "invalid_request",
        field,
    )
    assert field in response.body["message"]
    assert env.order_items() == []


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON"]
)
def test_json_content_types_and_base64_bodies_are_accepted(env, api_handler, lambda_context, content_type):
    env.put_control(active_region=PRIMARY)
    event = api_event("POST", "/orders", base64.b64encode(json.dumps(order_body()).encode()).decode())
    event["isBase64Encoded"] = True
    event["headers"]["Content-Type"] = content_type
    event["multiValueHeaders"]["Content-Type"] = [content_type]

    response = call_api(api_handler, lambda_context, event)

    assert response.status == 201
    assert response.body["client_order_id"] == order_body()["client_order_id"]
