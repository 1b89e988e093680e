"""Fixtures for the failover orchestrator: moto + drill.emulator, a local health endpoint.

The function folder and ``trading_runtime`` are put on ``sys.path`` the way the deployment
archive lays them out. Health probes go to an HTTP server on 127.0.0.1 whose answers per
region the test sets; nothing else is contacted.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FAILOVER_DIR = REPO_ROOT / "projects" / "edge" / "functions" / "failover"
COMMON_DIR = REPO_ROOT / "projects" / "region" / "functions" / "common"
API_DIR = REPO_ROOT / "projects" / "region" / "functions" / "api"
for _path in (COMMON_DIR, FAILOVER_DIR, API_DIR, REPO_ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import boto3  # noqa: E402
from failover_orchestrator import Dependencies, Orchestrator, OrchestratorSettings, http_probe  # noqa: E402
from failover_orchestrator.aws import Clients  # noqa: E402
from moto import mock_aws  # noqa: E402
from trading_runtime.dynamo import deserialize_item, orders_table_request, serialize_item  # noqa: E402

from drill import emulator  # noqa: E402
from drill.clock import SimulatedClock  # noqa: E402

PRIMARY = "us-east-1"
SECONDARY = "us-east-2"
ACCOUNT_ID = "123456789012"
TABLE_NAME = "trading-test-orders"
GLOBAL_CLUSTER_ID = "trading-test-global"
PRIMARY_ALARM = "trading-test-regional-health-use1"
PRIMARY_DOWN_ALARM = "trading-test-primary-down-use2"

_SESSION = boto3.session.Session()


class HealthServer:
    """``GET /<region>/health`` answers the status set for that region (default 200)."""

    def __init__(self) -> None:
        self.status: dict[str, int] = {PRIMARY: 200, SECONDARY: 200}
        self.sequence: dict[str, list[int]] = {}
        self.hits: list[str] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                region = self.path.strip("/").split("/")[0]
                with server._lock:
                    server.hits.append(self.path)
                    queued = server.sequence.get(region)
                    code = queued.pop(0) if queued else server.status.get(region, 404)
                body = json.dumps({"region": region}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, region: str) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/{region}/health"

    def hits_of(self, region: str) -> int:
        return sum(1 for hit in self.hits if hit.startswith(f"/{region}/"))


@pytest.fixture(scope="session")
def health_server() -> Iterator[HealthServer]:
    server = HealthServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class World:
    """The AWS side of one test, with helpers to look at it."""

    health: HealthServer
    dynamodb: Any = None
    sns: Any = None
    sqs: Any = None
    queue_url: str = ""
    topic_arn: str = ""
    cluster_arns: dict[str, str] = field(default_factory=dict)

    # -- setup ---------------------------------------------------------------------------
    def build(self) -> None:
        self.dynamodb = _SESSION.client("dynamodb", region_name=SECONDARY)
        self.dynamodb.create_table(**orders_table_request(TABLE_NAME))
        self.put_control(PRIMARY, "active", 1)
        self.sns = _SESSION.client("sns", region_name=SECONDARY)
        self.sqs = _SESSION.client("sqs", region_name=SECONDARY)
        self.topic_arn = self.sns.create_topic(Name="trading-test-ops-use2")["TopicArn"]
        self.queue_url = self.sqs.create_queue(QueueName="reports")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.sns.subscribe(
            TopicArn=self.topic_arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "true"},
        )
        primary_rds = _SESSION.client("rds", region_name=PRIMARY)
        secondary_rds = _SESSION.client("rds", region_name=SECONDARY)
        primary_rds.create_global_cluster(
            GlobalClusterIdentifier=GLOBAL_CLUSTER_ID, Engine="aurora-postgresql", EngineVersion="16.6"
        )
        for region, rds in ((PRIMARY, primary_rds), (SECONDARY, secondary_rds)):
            extra: dict[str, Any] = (
                {
                    "MasterUsername": "trading",
                    "MasterUserPassword": "not-a-real-password",
                    "DatabaseName": "trading",
                }
                if region == PRIMARY
                else {}
            )
            cluster = rds.create_db_cluster(
                DBClusterIdentifier=f"trading-test-{region}",
                Engine="aurora-postgresql",
                EngineVersion="16.6",
                GlobalClusterIdentifier=GLOBAL_CLUSTER_ID,
                **extra,
            )["DBCluster"]
            self.cluster_arns[region] = cluster["DBClusterArn"]

    def env(self) -> dict[str, str]:
        return {
            "TABLE_NAME": TABLE_NAME,
            "PRIMARY_REGION": PRIMARY,
            "SECONDARY_REGION": SECONDARY,
            "REGION_NAME": SECONDARY,
            "GLOBAL_CLUSTER_ID": GLOBAL_CLUSTER_ID,
            "CLUSTER_ARNS": json.dumps(self.cluster_arns),
            "HEALTH_URLS": json.dumps({r: self.health.url(r) for r in (PRIMARY, SECONDARY)}),
            "REPORT_TOPIC_ARN": self.topic_arn,
            "TRIGGER_ALARMS": json.dumps([PRIMARY_ALARM, PRIMARY_DOWN_ALARM]),
            "FAILOVER_MODE": "automatic",
            "ENVIRONMENT": "test",
            "PROBE_COUNT": "3",
            "PROBE_INTERVAL_SECONDS": "0",
            "PROBE_TIMEOUT_SECONDS": "2",
            "WAIT_TIMEOUT_SECONDS": "5",
            "POLL_INTERVAL_SECONDS": "0.01",
            "LOCK_TTL_SECONDS": "900",
        }

    def settings(self, **overrides: Any) -> OrchestratorSettings:
        settings = OrchestratorSettings.from_env(self.env())
        return OrchestratorSettings(**{**{f: getattr(settings, f) for f in settings.__slots__}, **overrides})

    def orchestrator(self, clock: SimulatedClock, **overrides: Any) -> Orchestrator:
        """The orchestrator with moto clients and a simulated clock (no real sleeping)."""
        clients = Clients(_SESSION)
        return Orchestrator(
            self.settings(**overrides),
            Dependencies(
                dynamodb=clients.get("dynamodb", SECONDARY),
                sns=clients.get("sns", SECONDARY),
                rds_in=lambda region: clients.get("rds", region),
                probe=http_probe,
                now=clock.now,
                sleep=clock.sleep,
            ),
        )

    # -- state ---------------------------------------------------------------------------
    def put_control(self, active_region: str, state: str, epoch: int) -> None:
        self.dynamodb.put_item(
            TableName=TABLE_NAME,
            Item=serialize_item(
                {
                    "pk": "CONTROL",
                    "sk": "CONTROL",
                    "active_region": active_region,
                    "state": state,
                    "epoch": epoch,
                }
            ),
        )

    def control(self) -> dict[str, Any]:
        item = self.dynamodb.get_item(
            TableName=TABLE_NAME, Key={"pk": {"S": "CONTROL"}, "sk": {"S": "CONTROL"}}, ConsistentRead=True
        )["Item"]
        return deserialize_item(item)

    def writer_region(self) -> str:
        cluster = _SESSION.client("rds", region_name=SECONDARY).describe_global_clusters(
            GlobalClusterIdentifier=GLOBAL_CLUSTER_ID
        )["GlobalClusters"][0]
        writer = next(m["DBClusterArn"] for m in cluster["GlobalClusterMembers"] if m["IsWriter"])
        return next(region for region, arn in self.cluster_arns.items() if arn == writer)

    def put_order(self, order_id: str, origin: str, status: str = "ACCEPTED") -> None:
        self.dynamodb.put_item(
            TableName=TABLE_NAME,
            Item=serialize_item(
                {
                    "pk": f"ORDER#{order_id}",
                    "sk": "ORDER",
                    "order_id": order_id,
                    "client_order_id": f"c-{order_id[:8]}",
                    "symbol": "ACME",
                    "side": "BUY",
                    "quantity": 10,
                    "limit_price": 101,
                    "status": status,
                    "origin_region": origin,
                    "created_at": "2026-01-01T00:00:00.000Z",
                    "epoch": 1,
                }
            ),
        )

    def order(self, order_id: str) -> dict[str, Any]:
        item = self.dynamodb.get_item(
            TableName=TABLE_NAME,
            Key={"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "ORDER"}},
            ConsistentRead=True,
        )["Item"]
        return deserialize_item(item)

    def reports(self) -> list[dict[str, Any]]:
        """Every SNS report published so far (drains the capture queue)."""
        messages: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not batch:
                return messages
            for message in batch:
                messages.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, health_server: HealthServer) -> Iterator[World]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": SECONDARY,
    }.items():
        monkeypatch.setenv(name, value)
    health_server.status = {PRIMARY: 200, SECONDARY: 200}
    health_server.sequence = {}
    health_server.hits.clear()
    emulator.install()
    emulator.reset()
    emulator.configure(describes_until_complete=2)
    with mock_aws():
        world = World(health=health_server)
        world.build()
        for name, value in world.env().items():
            monkeypatch.setenv(name, value)
        yield world
    emulator.reset()


@pytest.fixture(scope="session")
def handler_module() -> ModuleType:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POWERTOOLS_SERVICE_NAME", "trading-failover")
        spec = importlib.util.spec_from_file_location("failover_handler", FAILOVER_DIR / "handler.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["failover_handler"] = module
        spec.loader.exec_module(module)
        return module


@dataclass
class LambdaContext:
    aws_request_id: str = "req-1"
    function_name: str = "trading-test-failover-use2"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{SECONDARY}:{ACCOUNT_ID}:function:trading-test-failover-use2"
    log_group_name: str = "/aws/lambda/trading-test-failover-use2"
    log_stream_name: str = "2026/01/01/[$LATEST]abcdef"
    remaining_ms: int = 300_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def invoke(handler_module: ModuleType, world: World, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``invoke(event, request_id="req-1")`` runs the real Lambda handler (fresh clients)."""
    monkeypatch.setattr(handler_module, "_clients", Clients())

    def run(event: dict[str, Any], request_id: str = "req-1", remaining_ms: int = 300_000) -> dict[str, Any]:
        return handler_module.lambda_handler(
            event, LambdaContext(aws_request_id=request_id, remaining_ms=remaining_ms)
        )

    return run


def sns_alarm(name: str = PRIMARY_ALARM, state: str = "ALARM") -> dict[str, Any]:
    """A CloudWatch alarm notification as delivered to Lambda by an SNS subscription."""
    message = {
        "AlarmName": name,
        "AlarmDescription": "regional health of us-east-1",
        "AWSAccountId": ACCOUNT_ID,
        "NewStateValue": state,
        "NewStateReason": "Threshold Crossed",
        "StateChangeTime": "2026-01-01T00:00:00.000+0000",
        "Region": "US East (N. Virginia)",
        "AlarmArn": f"arn:aws:cloudwatch:{PRIMARY}:{ACCOUNT_ID}:alarm:{name}",
        "OldStateValue": "OK",
    }
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"arn:aws:sns:{PRIMARY}:{ACCOUNT_ID}:trading-test-ops-use1:1",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                    "TopicArn": f"arn:aws:sns:{PRIMARY}:{ACCOUNT_ID}:trading-test-ops-use1",
                    "Subject": f'ALARM: "{name}" in US East (N. Virginia)',
                    "Message": json.dumps(message),
                    "Timestamp": "2026-01-01T00:00:01.000Z",
                },
            }
        ]
    }


def composite_alarm_action(name: str = PRIMARY_DOWN_ALARM, state: str = "ALARM") -> dict[str, Any]:
    """A composite alarm invoking the function directly (CloudWatch Lambda alarm action)."""
    return {
        "source": "aws.cloudwatch",
        "alarmArn": f"arn:aws:cloudwatch:{SECONDARY}:{ACCOUNT_ID}:alarm:{name}",
        "accountId": ACCOUNT_ID,
        "time": "2026-01-01T00:00:00.000+0000",
        "region": SECONDARY,
        "alarmData": {
            "alarmName": name,
            "state": {
                "value": state,
                "reason": "child alarm in ALARM",
                "timestamp": "2026-01-01T00:00:00.000+0000",
            },
            "previousState": {"value": "OK"},
            "configuration": {"alarmRule": "ALARM(x)"},
        },
    }
