"""The few places where this repository reaches below Pulumi's public Python API.

Pulumi is pinned exactly in ``pyproject.toml`` because of this module. Everything that touches
``pulumi.runtime`` internals lives here, so an SDK upgrade is reviewed in one file:

* reading the whole config bag of the running program (to reject unknown keys);
* configuring the mock runtime and running a program inside a fresh root stack (offline plan).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import runpy
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pulumi.runtime import config as _config
from pulumi.runtime import mocks as _mocks
from pulumi.runtime import settings as _settings
from pulumi.runtime import stack as _stack

MockMonitor = _mocks.MockMonitor
Mocks = _mocks.Mocks
MockResourceArgs = _mocks.MockResourceArgs
MockCallArgs = _mocks.MockCallArgs


def all_config() -> dict[str, str]:
    """Return every config value the program was started with, as ``{"ns:key": "value"}``.

    Under ``pulumi up`` the language host fills this bag from the stack file; under the offline
    plan the runner fills it. Secret values are included (still encrypted-at-rest semantics are the
    engine's business); callers only look at the keys.
    """
    merged: dict[str, str] = {}
    merged.update({str(k): str(v) for k, v in _config.get_config_env().items()})
    merged.update({str(k): str(v) for k, v in _config.CONFIG.get().items()})
    return merged


def _configure(
    monitor: Any,
    project: str,
    stack: str,
    organization: str,
    config: Mapping[str, str],
    secret_keys: list[str],
    root_directory: str,
) -> None:
    features = set(monitor.GetDeploymentInfo(None).supportedFeatures)
    settings = _mocks.MockSettings(
        monitor=monitor,
        monitor_features=features,
        engine=_mocks.MockEngine(logging.getLogger("pulumi.plan")),
        project=project,
        stack=stack,
        dry_run=True,
        organization=organization,
        callbacks=None,
        root_directory=root_directory,
        legacy_apply_enabled=False,
        parallel=None,
    )
    _settings.configure(settings)
    # MockSettings sets a fresh RPC manager but not the set of pending outputs: that set is the
    # ContextVar's process-wide default. After a program that failed mid-way, it still holds
    # tasks of the closed event loop, and the next run would wait on them forever. Give every
    # run its own set (and lock) in its own context.
    _settings.SETTINGS.outputs = set()
    _settings.SETTINGS.lock = threading.Lock()
    _config.set_all_config(dict(config), secret_keys)


def run_program_with_monitor(
    monitor: Any,
    *,
    project: str,
    stack: str,
    organization: str,
    config: Mapping[str, str],
    secret_keys: list[str],
    program_dir: Path,
    program: Callable[[], Any] | None = None,
) -> None:
    """Run ``program_dir/__main__.py`` (or ``program``) as a Pulumi program against ``monitor``.

    Each call runs in a brand-new ``contextvars.Context`` and event loop, so no root stack,
    config or pending output leaks from one stack into the next. Exceptions of the program are
    re-raised unchanged.
    """

    def _run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            _configure(monitor, project, stack, organization, config, secret_keys, str(program_dir))

            def _body() -> None:
                if program is not None:
                    program()
                    return
                sys.path.insert(0, str(program_dir))
                try:
                    runpy.run_path(str(program_dir / "__main__.py"), run_name="__main__")
                finally:
                    sys.path.remove(str(program_dir))

            loop.run_until_complete(_stack.run_in_stack(_body))
        finally:
            # A program that failed mid-way leaves tasks behind: cancel them with their loop so
            # nothing of this run is left to wake up in the next one.
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            asyncio.set_event_loop(None)
            loop.close()

    contextvars.Context().run(_run)
