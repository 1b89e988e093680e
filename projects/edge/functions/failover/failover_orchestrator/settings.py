"""Settings of the failover orchestrator, read from the function environment.

The variable names are a contract with the ``trading-edge`` Pulumi project, which sets them:

``TABLE_NAME``              DynamoDB global table (control record, orders)
``PRIMARY_REGION``          the configured primary (``failback`` returns there)
``SECONDARY_REGION``        the configured secondary (``switchover``/``failover`` go there)
``REGION_NAME``             this function's region (falls back to ``AWS_REGION``)
``GLOBAL_CLUSTER_ID``       Aurora global cluster identifier
``CLUSTER_ARNS``            JSON object region → member cluster ARN
``HEALTH_URLS``             JSON object region → the regional API's ``/health`` URL
``REPORT_TOPIC_ARN``        SNS topic for outcome reports (this function's region)
``TRIGGER_ALARMS``          JSON list of alarm names whose ALARM state means "primary down"
``FAILOVER_MODE``           ``automatic`` (alarms fail over) | ``manual`` (alarms only report)
``PROBE_COUNT``             confirmation probes of the primary (default 3)
``PROBE_INTERVAL_SECONDS``  pause between probes (default 5)
``PROBE_TIMEOUT_SECONDS``   per-probe HTTP timeout (default 5)
``WAIT_TIMEOUT_SECONDS``    bound of the wait for the new writer (default 180)
``POLL_INTERVAL_SECONDS``   pause between DescribeGlobalClusters polls (default 5)
``LOCK_TTL_SECONDS``        lock lifetime; longer than the function timeout (default 900)
``ENVIRONMENT``             environment name (logs and reports)
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

MODE_AUTOMATIC = "automatic"
MODE_MANUAL = "manual"
MODES = (MODE_AUTOMATIC, MODE_MANUAL)


class SettingsError(RuntimeError):
    """An environment variable is missing or unusable; the message names it."""


@dataclass(frozen=True, slots=True)
class OrchestratorSettings:
    """Typed view of the orchestrator environment (see the module docstring)."""

    table_name: str
    primary_region: str
    secondary_region: str
    region: str
    global_cluster_id: str
    cluster_arns: Mapping[str, str]
    health_urls: Mapping[str, str]
    report_topic_arn: str
    trigger_alarms: tuple[str, ...]
    failover_mode: str = MODE_AUTOMATIC
    environment: str = "unknown"
    probe_count: int = 3
    probe_interval_seconds: float = 5.0
    probe_timeout_seconds: float = 5.0
    wait_timeout_seconds: float = 180.0
    poll_interval_seconds: float = 5.0
    lock_ttl_seconds: int = 900

    def __post_init__(self) -> None:
        regions = (self.primary_region, self.secondary_region)
        if self.primary_region == self.secondary_region:
            raise SettingsError("PRIMARY_REGION and SECONDARY_REGION must differ")
        for name, mapping in (("CLUSTER_ARNS", self.cluster_arns), ("HEALTH_URLS", self.health_urls)):
            missing = [r for r in regions if not mapping.get(r)]
            if missing:
                raise SettingsError(f"{name} lacks an entry for {', '.join(missing)}")
        if self.failover_mode not in MODES:
            raise SettingsError(f"FAILOVER_MODE={self.failover_mode!r} is not one of {', '.join(MODES)}")
        if self.probe_count < 1:
            raise SettingsError(f"PROBE_COUNT={self.probe_count} must be >= 1")

    def other_region(self, region: str) -> str:
        """The configured region that is not ``region``."""
        return self.secondary_region if region == self.primary_region else self.primary_region

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OrchestratorSettings:
        """Parse ``env`` (default ``os.environ``); errors name the variable."""
        env = os.environ if env is None else env

        def required(name: str) -> str:
            value = env.get(name, "").strip()
            if not value:
                raise SettingsError(f"environment variable {name} is required and is empty")
            return value

        def json_value(name: str, kind: type) -> object:
            raw = required(name)
            try:
                value = json.loads(raw)
            except ValueError as exc:
                raise SettingsError(f"{name} is not JSON: {exc}") from exc
            if not isinstance(value, kind):
                raise SettingsError(f"{name} must be a JSON {kind.__name__}")
            return value

        def number(name: str, default: float) -> float:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = float(raw)
            except ValueError:
                value = -1.0
            # float() also takes "nan" and "inf": a NaN bound never runs out, an infinite one
            # never ends.
            if not math.isfinite(value) or value < 0:
                raise SettingsError(f"{name}={raw!r} must be a non-negative number")
            return value

        def integer(name: str, default: int) -> int:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            if not raw.isdigit():
                raise SettingsError(f"{name}={raw!r} must be a non-negative integer")
            return int(raw)

        clusters = json_value("CLUSTER_ARNS", dict)
        urls = json_value("HEALTH_URLS", dict)
        alarms = json_value("TRIGGER_ALARMS", list)
        region = env.get("REGION_NAME", "").strip() or env.get("AWS_REGION", "").strip()
        if not region:
            raise SettingsError("environment variable REGION_NAME (or AWS_REGION) is required")
        return cls(
            table_name=required("TABLE_NAME"),
            primary_region=required("PRIMARY_REGION"),
            secondary_region=required("SECONDARY_REGION"),
            region=region,
            global_cluster_id=required("GLOBAL_CLUSTER_ID"),
            cluster_arns={str(k): str(v) for k, v in clusters.items()},  # type: ignore[attr-defined]
            health_urls={str(k): str(v) for k, v in urls.items()},  # type: ignore[attr-defined]
            report_topic_arn=required("REPORT_TOPIC_ARN"),
            trigger_alarms=tuple(str(a) for a in alarms),  # type: ignore[attr-defined]
            failover_mode=env.get("FAILOVER_MODE", "").strip() or MODE_AUTOMATIC,
            environment=env.get("ENVIRONMENT", "").strip() or "unknown",
            probe_count=integer("PROBE_COUNT", 3),
            probe_interval_seconds=number("PROBE_INTERVAL_SECONDS", 5.0),
            probe_timeout_seconds=number("PROBE_TIMEOUT_SECONDS", 5.0),
            wait_timeout_seconds=number("WAIT_TIMEOUT_SECONDS", 180.0),
            poll_interval_seconds=number("POLL_INTERVAL_SECONDS", 5.0),
            lock_ttl_seconds=integer("LOCK_TTL_SECONDS", 900),
        )
