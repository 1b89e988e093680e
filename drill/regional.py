"""The real regional functions (order API, ledger processor) run as one region of the drill.

The handlers are imported from ``projects/region/functions`` unchanged and invoked with API
Gateway (REST, payload v1) and DynamoDB-stream events, exactly as Lambda would. What is swapped,
per region, is what a Lambda container would hold: the runtime settings and the botocore
clients (``trading_runtime.settings`` / ``trading_runtime.aws`` caches), pointed at the
emulator and wired through the drill's fault shims.

Aurora is the one store the drill does not run: :class:`EmulatedAurora` stands in for the
database behind the global writer endpoint and the regional readers. It keeps the ledger in
memory with the same unique key as the real table (``order_id``) and answers the one statement
the processor's ledger repository issues (``INSERT … ON CONFLICT (order_id) DO NOTHING
RETURNING``); migrations are accepted and ignored. The writer is reachable from a region only
while that region is up and its cluster is the global cluster's writer (read from the emulator
without advancing a promotion); no cross-region path is assumed (SPEC D3). The real SQL is
tested against PostgreSQL in ``tests/handlers``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = REPO_ROOT / "projects" / "region" / "functions"
ACCOUNT_ID = "123456789012"


def add_function_paths() -> None:
    """Put the function folders on ``sys.path`` the way the deployment archives lay them out."""
    for folder in (FUNCTIONS_DIR / "common", FUNCTIONS_DIR / "api", FUNCTIONS_DIR / "processor"):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))


def load_module(name: str, path: Path) -> ModuleType:
    """Import ``path`` as module ``name`` (each handler is a top-level ``handler.py``)."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class DatabaseUnavailableError(Exception):
    """What pg8000 raises when the endpoint does not answer (the drill's stand-in)."""


@dataclass
class EmulatedAurora:
    """The ledger database (see the module docstring)."""

    control_url: str
    global_cluster_id: str
    cluster_arns: dict[str, str]
    region_down: Callable[[str], bool]
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    inserts: Counter[str] = field(default_factory=Counter)

    def writer_region(self) -> str | None:
        """The region whose cluster is the writer, ``None`` while a promotion is in progress."""
        query = f"{self.control_url}/_drill/writer?global_cluster_id={self.global_cluster_id}"
        with urllib.request.urlopen(query, timeout=5) as answer:  # noqa: S310 - local emulator
            view = json.load(answer)
        if view["status"] != "available":
            return None
        return next((r for r, arn in self.cluster_arns.items() if arn == view["writer"]), None)

    def run_with_reconnect(
        self, settings: Any, role: str, work: Callable[[Any], Any], timeout: Any = None
    ) -> Any:
        """Drop-in for ``trading_runtime.database.run_with_reconnect``."""
        region = settings.region
        if self.region_down(region):
            raise DatabaseUnavailableError(f"{role} endpoint in {region} unreachable (region outage)")
        if role == "writer" and self.writer_region() != region:
            raise DatabaseUnavailableError(
                f"the global writer endpoint does not resolve to {region}: it does not hold the writer"
            )
        return work(_Connection(self, region))

    def ledger_insert(self, params: dict[str, Any]) -> list[list[str]]:
        order_id = str(params["order_id"])
        self.inserts[order_id] += 1
        if order_id in self.rows:
            return []
        self.rows[order_id] = dict(params)
        return [[order_id]]


@dataclass
class _Connection:
    aurora: EmulatedAurora
    region: str

    def run(self, sql: str, **params: Any) -> list[list[Any]]:
        if "INSERT INTO ledger" in sql:
            return self.aurora.ledger_insert(params)
        return []  # migrations, SELECT 1, SELECT version FROM schema_migrations


@dataclass
class LambdaContext:
    """The attributes of the Lambda context the handlers and powertools read."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = "drill"

    def get_remaining_time_in_millis(self) -> int:
        return 25_000


@dataclass(frozen=True)
class ApiAnswer:
    """One HTTP answer of a regional API."""

    status: int
    headers: dict[str, str]
    body: dict[str, Any]


class Regions:
    """The real handlers, runnable as any configured region (one "container" per region)."""

    def __init__(
        self,
        *,
        environment: str,
        table_name: str,
        clients: dict[str, dict[str, Any]],  # region -> service -> client
        aurora: EmulatedAurora,
    ) -> None:
        add_function_paths()
        from trading_runtime import aws, database, settings

        self._aws = aws
        self._settings_module = settings
        self._environment = environment
        self._table_name = table_name
        self._clients = clients
        database.run_with_reconnect = aurora.run_with_reconnect
        self.api = load_module("drill_api_handler", FUNCTIONS_DIR / "api" / "handler.py")
        self.processor = load_module("drill_processor_handler", FUNCTIONS_DIR / "processor" / "handler.py")
        self._settings = {
            region: settings.RuntimeSettings(
                table_name=table_name,
                region=region,
                environment=environment,
                db_secret_arn="",
                db_writer_endpoint="emulated-global-writer",
                db_reader_endpoint=f"emulated-reader-{region}",
                db_port=None,
                db_name=None,
                db_connect_timeout=2.0,
                db_ssl="disable",
                db_ssl_root_cert=None,
            )
            for region in clients
        }

    @contextmanager
    def acting_as(self, region: str) -> Iterator[None]:
        """Run the next handler call as a container in ``region``."""
        self._settings_module._settings = self._settings[region]
        self._aws._clients = self._clients[region]
        try:
            yield
        finally:
            self._settings_module._settings = None
            self._aws._clients = {}

    def call_api(self, region: str, method: str, path: str, body: dict[str, Any] | None = None) -> ApiAnswer:
        """Invoke the order API of ``region`` with an API Gateway proxy event."""
        resource, params = path, None
        if path.startswith("/orders/"):
            resource, params = "/orders/{id}", {"id": path.removeprefix("/orders/")}
        event = _api_event(region, self._environment, method, path, resource, params, body)
        with self.acting_as(region):
            raw = self.api.lambda_handler(event, LambdaContext(f"trading-{self._environment}-api-{region}"))
        headers = {k.lower(): v for k, v in (raw.get("headers") or {}).items()}
        for key, values in (raw.get("multiValueHeaders") or {}).items():
            headers[key.lower()] = ",".join(values)
        return ApiAnswer(raw["statusCode"], headers, json.loads(raw["body"]) if raw.get("body") else {})

    def process(self, region: str, records: list[dict[str, Any]]) -> list[str]:
        """Invoke the ledger processor of ``region``; returns the failed sequence numbers."""
        with self.acting_as(region):
            response = self.processor.lambda_handler(
                {"Records": records}, LambdaContext(f"trading-{self._environment}-processor-{region}")
            )
        return [f["itemIdentifier"] for f in response.get("batchItemFailures", [])]


def _api_event(
    region: str,
    stage: str,
    method: str,
    path: str,
    resource: str,
    params: dict[str, str] | None,
    body: dict[str, Any] | None,
) -> dict[str, Any]:
    request_id = str(uuid.uuid4())
    headers = {
        "Content-Type": "application/json",
        "Host": f"drill.execute-api.{region}.amazonaws.com",
        "X-Forwarded-Proto": "https",
    }
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": params,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "drill",
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "protocol": "HTTP/1.1",
            "requestTimeEpoch": 1767225600000,
            "identity": {"sourceIp": "203.0.113.10", "userAgent": "make-drill"},
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }
