"""Runtime code shared by the regional functions (``api`` and ``processor``).

The build copies this package into both deployment archives (``tools/build_functions.py``), so
it is importable as a top-level ``trading_runtime`` inside each Lambda. It is never imported by
the Pulumi programs.

Everything that talks to the outside world is created lazily, once per container (AWS clients,
the database secret, PostgreSQL connections, the settings read from the environment), and can be
dropped with :func:`reset_runtime_state` — the tests call it between cases instead of reaching
into module internals.
"""

from __future__ import annotations


def reset_runtime_state() -> None:
    """Forget every per-container cache: settings, AWS clients, secret, database connections."""
    # Imported here so that importing the package stays cheap and free of side effects.
    from trading_runtime import aws, database, ledger, settings

    ledger.reset()
    database.reset()
    aws.reset()
    settings.reset()


__all__ = ["reset_runtime_state"]
