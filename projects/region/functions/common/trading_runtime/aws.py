"""botocore clients, created once per container in this function's own region.

Timeouts are short on purpose: the API answers within API Gateway's 29 s integration limit
and a stuck call must fail fast enough for the "standard" retry mode (which retries throttling
and transient errors with jittered backoff) to get a second attempt in.
"""

from __future__ import annotations

import threading
from typing import Any

import botocore.session
from botocore.config import Config

from trading_runtime.settings import get_settings

CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=2,
    read_timeout=5,
    tcp_keepalive=True,
)

_clients: dict[str, Any] = {}
_lock = threading.Lock()
_session: botocore.session.Session | None = None


def _get_session() -> botocore.session.Session:
    # botocore directly: importing boto3 also imports s3transfer (~0.1 s of cold start) and
    # adds nothing for low-level clients. A private session, not a shared default one; it
    # survives reset() because it holds the parsed service models, which never change and are
    # most of the cost of creating a client.
    global _session
    if _session is None:
        _session = botocore.session.get_session()
    return _session


def client(service_name: str) -> Any:
    """A cached botocore client for ``service_name`` in this function's region."""
    cached = _clients.get(service_name)
    if cached is not None:
        return cached
    with _lock:
        cached = _clients.get(service_name)
        if cached is None:
            cached = _get_session().create_client(
                service_name, region_name=get_settings().region, config=CLIENT_CONFIG
            )
            _clients[service_name] = cached
        return cached


def dynamodb() -> Any:
    """The DynamoDB client (low level: the resource layer costs cold-start time for nothing)."""
    return client("dynamodb")


def secretsmanager() -> Any:
    """The Secrets Manager client."""
    return client("secretsmanager")


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` (``""`` for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def reset() -> None:
    """Forget the cached clients (tests start and stop the AWS emulator between cases)."""
    with _lock:
        _clients.clear()
