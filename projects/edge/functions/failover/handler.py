"""Failover orchestrator Lambda (SPEC E7). Thin: settings + real clients → ``Orchestrator.run``.

Invoked asynchronously (SNS, the CloudWatch alarm action) or by hand; a failure raises after it
was reported on SNS, so Lambda retries the event and finally puts it on the dead-letter queue.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from failover_orchestrator import Dependencies, Orchestrator, OrchestratorSettings, http_probe
from failover_orchestrator.aws import Clients

logger = Logger()
_clients = Clients()


def build(context: LambdaContext | None = None) -> Orchestrator:
    """The orchestrator with real clients in the configured regions."""
    settings = OrchestratorSettings.from_env()
    remaining = (lambda: context.get_remaining_time_in_millis() / 1000.0) if context is not None else None
    return Orchestrator(
        settings,
        Dependencies(
            dynamodb=_clients.get("dynamodb", settings.region),
            sns=_clients.get("sns", settings.region),
            rds_in=lambda region: _clients.get("rds", region),
            probe=http_probe,
            now=time.time,
            sleep=time.sleep,
            remaining_seconds=remaining,
        ),
    )


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return build(context).run(event, request_id=context.aws_request_id).to_json()
