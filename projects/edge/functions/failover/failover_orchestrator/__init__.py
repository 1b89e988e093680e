"""The failover orchestrator (SPEC E7), importable by the Lambda handler, the tests and the drill.

Entry point outside Lambda::

    from failover_orchestrator import Dependencies, Orchestrator, OrchestratorSettings
    outcome = Orchestrator(settings, Dependencies(...)).run(event, request_id="drill-1")

It needs ``trading_runtime`` (``projects/region/functions/common``) on ``sys.path``, as the
deployment archive lays it out.
"""

from __future__ import annotations

from failover_orchestrator.events import EventValidationError, Request, parse_event
from failover_orchestrator.logic import Dependencies, OrchestrationError, Orchestrator, Outcome
from failover_orchestrator.probes import ProbeResult, http_probe
from failover_orchestrator.settings import OrchestratorSettings, SettingsError

__all__ = [
    "Dependencies",
    "EventValidationError",
    "OrchestrationError",
    "Orchestrator",
    "OrchestratorSettings",
    "Outcome",
    "ProbeResult",
    "Request",
    "SettingsError",
    "http_probe",
    "parse_event",
]
