"""AWS clients of the orchestrator: botocore standard retries, bounded timeouts, any region.

Standard retry mode retries throttling and transient errors (5xx, connection resets) with
jittered exponential backoff; the timeouts keep one stuck call from eating the 5-minute budget.
Unlike the regional functions (``trading_runtime.aws``), the orchestrator needs clients in more
than one region (RDS in the promotion target's region), so it has its own small cache.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=20,
    tcp_keepalive=True,
)


class Clients:
    """Cached clients per (service, region) from one session."""

    def __init__(self, session: Any | None = None, config: Config = CLIENT_CONFIG) -> None:
        self._session = session or boto3.session.Session()
        self._config = config
        self._cache: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def get(self, service: str, region: str) -> Any:
        """The client for ``service`` in ``region``."""
        key = (service, region)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = self._session.client(service, region_name=region, config=self._config)
            return self._cache[key]
