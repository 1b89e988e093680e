"""Order API (API Gateway REST, Lambda proxy integration, payload v1).

Routes: ``POST /orders``, ``GET /orders/{id}``, ``GET /health``, ``GET /health/active``.
Thin by design: parse the request, call :mod:`order_api.logic`, map the result to a response.
Every answer is JSON, including errors; no exception escapes as an API Gateway 502.
"""

from __future__ import annotations

import binascii
import re
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from order_api.logic import (
    HealthService,
    IdempotencyConflictError,
    OrderService,
    WritesFencedError,
)
from order_api.validation import RequestValidationError, parse_body, validate_order_request
from trading_runtime import aws, database
from trading_runtime.control import ControlRepository
from trading_runtime.orders import OrderRepository, WriteContentionError, is_order_id
from trading_runtime.settings import get_settings

# Route 53 health checkers give up after a few seconds; the reader probe must answer sooner.
HEALTH_DB_TIMEOUT_SECONDS = 2.0
RETRYABLE_AWS_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
    }
)

logger = Logger()
app = APIGatewayRestResolver()


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def _order_service() -> OrderService:
    settings = get_settings()
    client = aws.dynamodb()
    return OrderService(
        orders=OrderRepository(client, settings.table_name),
        control=ControlRepository(client, settings.table_name),
        region=settings.region,
    )


def _health_service() -> HealthService:
    settings = get_settings()

    def probe_database() -> None:
        timeout = min(settings.db_connect_timeout, HEALTH_DB_TIMEOUT_SECONDS)
        database.run_with_reconnect(
            settings, database.READER, lambda conn: conn.run("SELECT 1"), timeout=timeout
        )

    return HealthService(
        control=ControlRepository(aws.dynamodb(), settings.table_name),
        probe_database=probe_database,
        region=settings.region,
    )


def _request_body() -> str | None:
    event = app.current_event
    content_type = event.headers.get("Content-Type")  # powertools: case-insensitive
    if content_type is None or content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise RequestValidationError(
            "Content-Type",
            f"Content-Type must be application/json, not {content_type!r}",
            status=HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        )
    try:
        return event.decoded_body
    except (binascii.Error, UnicodeDecodeError) as exc:
        # isBase64Encoded bodies are decoded by powertools; bad base64 or UTF-8 was a 500.
        raise RequestValidationError(
            "body", "body is not valid base64-encoded UTF-8", status=HTTPStatus.BAD_REQUEST
        ) from exc


@app.post("/orders")
def post_order() -> Response:
    request = validate_order_request(parse_body(_request_body()))
    placed = _order_service().place(request)
    logger.info(
        "order accepted" if placed.created else "order replayed",
        extra={"order_id": placed.order.order_id, "client_order_id": request.client_order_id},
    )
    if placed.created:
        return _json(
            HTTPStatus.CREATED,
            placed.order.to_json(),
            {"Location": f"/orders/{placed.order.order_id}"},
        )
    return _json(HTTPStatus.OK, placed.order.to_json(), {"Idempotent-Replayed": "true"})


@app.get("/orders/<order_id>")
def get_order(order_id: str) -> Response:
    if not is_order_id(order_id):
        raise RequestValidationError(
            "id", "order id must be a lowercase hyphenated UUID", status=HTTPStatus.BAD_REQUEST
        )
    order = _order_service().get(order_id)
    if order is None:
        return _json(HTTPStatus.NOT_FOUND, {"error": "not_found", "message": f"order {order_id} not found"})
    return _json(HTTPStatus.OK, order.to_json())


@app.get("/health")
def health() -> Response:
    report = _health_service().check()
    if not report.healthy:
        logger.warning("health check failing", extra={"health": report.to_json()})
    status = HTTPStatus.OK if report.healthy else HTTPStatus.SERVICE_UNAVAILABLE
    return _json(status, report.to_json())


@app.get("/health/active")
def health_active() -> Response:
    # DNS failover follows this endpoint: it must say "serve writes here", not only "alive".
    report = _health_service().check()
    body = report.to_json()
    if report.healthy and report.role == "active":
        return _json(HTTPStatus.OK, body)
    body["reason"] = "unhealthy" if not report.healthy else f"region is {report.role}"
    return _json(HTTPStatus.SERVICE_UNAVAILABLE, body)


@app.exception_handler(RequestValidationError)
def handle_invalid_request(exc: RequestValidationError) -> Response:
    logger.info("request refused", extra={"field": exc.field, "reason": exc.message})
    return _json(exc.status, exc.body())


@app.exception_handler(WritesFencedError)
def handle_fenced(exc: WritesFencedError) -> Response:
    region = get_settings().region
    logger.warning("write refused by fence", extra={"fence": exc.fence.reason})
    return _json(
        HTTPStatus.SERVICE_UNAVAILABLE,
        exc.fence.body(region),
        {"Retry-After": str(exc.fence.retry_after)},
    )


@app.exception_handler(IdempotencyConflictError)
def handle_conflict(exc: IdempotencyConflictError) -> Response:
    return _json(
        HTTPStatus.CONFLICT,
        {
            "error": "idempotency_conflict",
            "field": "client_order_id",
            "conflicting_fields": exc.fields,
            "order_id": exc.existing.order_id,
            "message": str(exc),
        },
    )


@app.exception_handler(WriteContentionError)
def handle_contention(exc: WriteContentionError) -> Response:
    logger.warning("write contention", extra={"reason": str(exc)})
    return _json(
        HTTPStatus.SERVICE_UNAVAILABLE,
        {"error": "contention", "message": "concurrent requests for this order; retry"},
        {"Retry-After": "1"},
    )


@app.exception_handler(Exception)
def handle_unexpected(exc: Exception) -> Response:
    code = aws.error_code(exc)
    if code in RETRYABLE_AWS_CODES:
        logger.warning("dependency busy", extra={"aws_error": code})
        return _json(
            HTTPStatus.SERVICE_UNAVAILABLE,
            {"error": "dependency_unavailable", "message": "a dependency is busy; retry"},
            {"Retry-After": "1"},
        )
    logger.exception("unhandled error")
    return _json(
        HTTPStatus.INTERNAL_SERVER_ERROR,
        {"error": "internal_error", "message": "internal error; the request id is logged"},
    )


# The routes above, by path, for 405 answers (API Gateway only forwards the methods it has).
ALLOWED_METHODS = (
    (re.compile(r"/orders"), "POST"),
    (re.compile(r"/orders/[^/]+"), "GET"),
    (re.compile(r"/health"), "GET"),
    (re.compile(r"/health/active"), "GET"),
)


@app.not_found
def handle_not_found(_exc: Exception) -> Response:
    event = app.current_event
    for path, method in ALLOWED_METHODS:
        if path.fullmatch(event.path) and event.http_method != method:
            return _json(
                HTTPStatus.METHOD_NOT_ALLOWED,
                {
                    "error": "method_not_allowed",
                    "field": "method",
                    "message": f"{event.http_method} {event.path} is not allowed; allowed: {method}",
                },
                {"Allow": method},
            )
    return _json(HTTPStatus.NOT_FOUND, {"error": "not_found", "message": f"no such route: {event.path}"})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
