"""Game-day tooling: an emulator extension for moto and fault shims for boto3.

``drill.emulator`` adds the Aurora global-database calls moto lacks (switchover and failover),
``drill.faults`` injects throttling, server errors and whole-region outages into boto3 clients
and HTTP health probes, and ``drill.clock`` is a simulated clock so waits cost no wall time.
The orchestrator tests use them now; ``make drill`` (SPEC O1) uses them for the game day.
"""
