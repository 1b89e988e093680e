"""Ledger processor: the DynamoDB stream of this region's replica → the Aurora ledger.

Partial batch responses (``ReportBatchItemFailures`` on the event source mapping): a record
that fails is reported by its sequence number and retried; the others count as done. When every
record fails the response lists them all instead of raising, which retries the same records
without an invocation error per attempt.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from ledger_processor.logic import SettlementService
from trading_runtime import aws, database, ledger
from trading_runtime.control import ControlRepository
from trading_runtime.orders import OrderRepository
from trading_runtime.settings import get_settings

logger = Logger()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


def _settlement_service() -> SettlementService:
    settings = get_settings()
    client = aws.dynamodb()
    return SettlementService(
        orders=OrderRepository(client, settings.table_name),
        control=ControlRepository(client, settings.table_name),
        run_on_writer=lambda work: database.run_with_reconnect(settings, database.WRITER, work),
        ensure_schema=lambda: ledger.ensure_schema(settings),
        region=settings.region,
    )


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    service = _settlement_service()
    response = process_partial_response(
        event=event, record_handler=service.process, processor=processor, context=context
    )
    failures = response.get("batchItemFailures", [])
    logger.info(
        "batch processed",
        extra={"records": len(event.get("Records", [])), "failed": len(failures)},
    )
    return dict(response)
