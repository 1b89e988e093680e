"""Fixtures for the Lambda handler tests: moto for AWS, a real PostgreSQL for the ledger.

The function folders are put on ``sys.path`` the way the deployment archive lays them out
(function folder + ``common/`` at the root). Both functions have a ``handler.py``, so the two
handler modules are loaded from their files under distinct names (``api_handler``,
``processor_handler``); everything they import resolves through ``sys.path`` as in Lambda.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from drill.regional import FUNCTIONS_DIR, add_function_paths, load_module  # noqa: E402

add_function_paths()

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402
from trading_runtime import reset_runtime_state  # noqa: E402
from trading_runtime.dynamo import orders_table_request, serialize_item  # noqa: E402

from tests.postgres_server import PostgresServer  # noqa: E402

TABLE_NAME = "trading-test-orders"
SECRET_NAME = "trading-test/db"
PRIMARY = "us-east-1"
SECONDARY = "us-east-2"
ACCOUNT_ID = "123456789012"

# One session for the test-side clients: it caches the parsed service models, which makes
# creating the per-test clients cheap.
_BOTO_SESSION = boto3.session.Session()


def _load_handler(name: str, function: str) -> ModuleType:
    # powertools' Logger reads its service name when the module is imported, as in Lambda.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POWERTOOLS_SERVICE_NAME", f"trading-{function}")
        return load_module(name, FUNCTIONS_DIR / function / "handler.py")


@pytest.fixture(scope="session")
def api_handler() -> ModuleType:
    return _load_handler("api_handler", "api")


@pytest.fixture(scope="session")
def processor_handler() -> ModuleType:
    return _load_handler("processor_handler", "processor")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL 15 server for the whole session (fails loudly if unavailable)."""
    server = PostgresServer(database="trading")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def clean_db(postgres: PostgresServer) -> PostgresServer:
    """An empty application database for this test."""
    postgres.reset_database()
    return postgres


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object the handlers and powertools read."""

    function_name: str = "trading-dev-api-use1"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{PRIMARY}:{ACCOUNT_ID}:function:trading-dev-api-use1"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    log_group_name: str = "/aws/lambda/trading-dev-api-use1"
    log_stream_name: str = "2025/01/01/[$LATEST]abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 25_000


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


class Environment:
    """The AWS side of one test: moto table + secret, env vars, control-record helpers."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, postgres: PostgresServer) -> None:
        self.monkeypatch = monkeypatch
        self.postgres = postgres
        self.region = PRIMARY
        self.dynamodb = _BOTO_SESSION.client("dynamodb", region_name=PRIMARY)
        self.secrets = _BOTO_SESSION.client("secretsmanager", region_name=PRIMARY)
        self.secret_arn = ""

    def setup(self) -> None:
        self.dynamodb.create_table(**orders_table_request(TABLE_NAME))
        self.dynamodb.update_time_to_live(
            TableName=TABLE_NAME,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"},
        )
        self.secret_arn = self.secrets.create_secret(
            Name=SECRET_NAME,
            SecretString=json.dumps(
                {
                    "username": self.postgres.user,
                    "password": self.postgres.password,
                    "dbname": self.postgres.database,
                    "port": self.postgres.port,
                }
            ),
        )["ARN"]
        for name, value in {
            "TABLE_NAME": TABLE_NAME,
            "DB_SECRET_ARN": self.secret_arn,
            "DB_WRITER_ENDPOINT": self.postgres.host,
            "DB_READER_ENDPOINT": self.postgres.host,
            "DB_PORT": str(self.postgres.port),
            "DB_NAME": self.postgres.database,
            "REGION_NAME": PRIMARY,
            "ENVIRONMENT": "test",
            "POWERTOOLS_SERVICE_NAME": "trading-region",
            "DB_CONNECT_TIMEOUT": "3",
            "DB_SSL": "disable",
        }.items():
            self.monkeypatch.setenv(name, value)
        reset_runtime_state()

    def set_env(self, name: str, value: str) -> None:
        """Change one function environment variable (as a new deployment would)."""
        self.monkeypatch.setenv(name, value)
        reset_runtime_state()

    def put_control(self, active_region: str = PRIMARY, state: str = "active", epoch: int = 1) -> None:
        self.dynamodb.put_item(
            TableName=TABLE_NAME,
            Item=serialize_item(
                {
                    "pk": "CONTROL",
                    "sk": "CONTROL",
                    "active_region": active_region,
                    "state": state,
                    "epoch": epoch,
                    "updated_at": "2025-01-01T00:00:00.000Z",
                }
            ),
        )

    def delete_control(self) -> None:
        self.dynamodb.delete_item(TableName=TABLE_NAME, Key={"pk": {"S": "CONTROL"}, "sk": {"S": "CONTROL"}})

    def scan(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": TABLE_NAME, "ConsistentRead": True}
        while True:
            page = self.dynamodb.scan(**kwargs)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def order_items(self) -> list[dict[str, Any]]:
        return [item for item in self.scan() if item["pk"]["S"].startswith("ORDER#")]

    def get_order_item(self, order_id: str) -> dict[str, Any] | None:
        return self.dynamodb.get_item(
            TableName=TABLE_NAME,
            Key={"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "ORDER"}},
            ConsistentRead=True,
        ).get("Item")

    def stream_records(self) -> list[dict[str, Any]]:
        """Every record on the table's stream so far, as Lambda would receive them."""
        # moto serves Streams only on the regional endpoint, not on the account-based one
        # (<account>.streams-ddb.<region>) that botocore picks for a stream ARN.
        streams = _BOTO_SESSION.client(
            "dynamodbstreams",
            region_name=PRIMARY,
            endpoint_url=f"https://streams.dynamodb.{PRIMARY}.amazonaws.com",
        )
        stream_arn = self.dynamodb.describe_table(TableName=TABLE_NAME)["Table"]["LatestStreamArn"]
        records: list[dict[str, Any]] = []
        for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
            iterator = streams.get_shard_iterator(
                StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            page = streams.get_records(ShardIterator=iterator)
            for record in page["Records"]:
                record = dict(record)
                record["eventSourceARN"] = stream_arn
                records.append(_jsonable(record))
        return records


def _jsonable(value: Any) -> Any:
    """A stream record as Lambda delivers it (JSON: datetimes become epoch seconds)."""
    return json.loads(json.dumps(value, default=lambda v: int(v.timestamp())))


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, postgres: PostgresServer) -> Iterator[Environment]:
    """moto (DynamoDB, Secrets Manager, Streams) with the table and secret, env vars set."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": PRIMARY,
        "AWS_REGION": PRIMARY,
    }.items():
        monkeypatch.setenv(name, value)
    reset_runtime_state()
    with mock_aws():
        environment = Environment(monkeypatch, postgres)
        environment.setup()
        try:
            yield environment
        finally:
            reset_runtime_state()


# -- API Gateway REST (payload v1) events ---------------------------------------------------
def api_event(
    method: str,
    path: str,
    body: str | None = None,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A REST API Lambda-proxy event as API Gateway sends it for stage ``dev``."""
    request_id = str(uuid.uuid4())
    headers = {
        "Content-Type": "application/json",
        "Host": f"a1b2c3d4e5.execute-api.{PRIMARY}.amazonaws.com",
        "X-Forwarded-Proto": "https",
    }
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {key: [value] for key, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "a1b2c3d4e5",
            "resourcePath": resource or path,
            "httpMethod": method,
            "path": f"/dev{path}",
            "stage": "dev",
            "requestId": request_id,
            "extendedRequestId": request_id,
            "protocol": "HTTP/1.1",
            "requestTimeEpoch": 1735689600000,
            "identity": {"sourceIp": "203.0.113.10", "userAgent": "pytest"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: Any


def call_api(handler: ModuleType, context: LambdaContext, event: dict[str, Any]) -> ApiResponse:
    raw = handler.lambda_handler(event, context)
    headers = {key.lower(): value for key, value in (raw.get("headers") or {}).items()}
    for key, values in (raw.get("multiValueHeaders") or {}).items():
        headers[key.lower()] = ",".join(values)
    return ApiResponse(raw["statusCode"], headers, json.loads(raw["body"]) if raw["body"] else None)


@pytest.fixture
def api(api_handler: ModuleType, lambda_context: LambdaContext) -> Callable[..., ApiResponse]:
    """``api("POST", "/orders", body)`` → :class:`ApiResponse`."""

    def invoke(method: str, path: str, body: Any = None, raw_body: str | None = None) -> ApiResponse:
        text = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
        resource, params = path, None
        if path.startswith("/orders/"):
            resource, params = "/orders/{id}", {"id": path.removeprefix("/orders/")}
        return call_api(api_handler, lambda_context, api_event(method, path, text, resource, params))

    return invoke


def stream_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}
