"""Aurora global-database switchover and failover for moto 5.2.5.

What moto 5.2.5 does by itself: ``CreateGlobalCluster``, ``DescribeGlobalClusters`` (ignoring
``GlobalClusterIdentifier``: it always lists every global cluster), ``DeleteGlobalCluster``,
``RemoveFromGlobalCluster``, and ``GlobalClusterMembers[].IsWriter`` (the first member is the
writer). It has no ``SwitchoverGlobalCluster`` and no ``FailoverGlobalCluster``.

What this module adds, after :func:`install`:

* ``SwitchoverGlobalCluster(GlobalClusterIdentifier, TargetDbClusterIdentifier)`` — planned,
  no data loss. Refused (``InvalidGlobalClusterStateFault``) while the current writer's region
  is marked unavailable (:func:`set_region_available`): a switchover synchronises the
  secondaries with the primary first, so it needs a reachable primary.
* ``FailoverGlobalCluster(GlobalClusterIdentifier, TargetDbClusterIdentifier, AllowDataLoss,
  Switchover)`` — as the AWS API reference documents: ``AllowDataLoss=true`` is a global failover
  (works with the primary's region down; the old primary stays a member, demoted, as AWS
  re-adds it as a secondary once its region recovers); without ``AllowDataLoss`` the call is a
  switchover with the switchover's preconditions; both flags together are
  ``InvalidParameterCombination``.
* Both return the global cluster with ``Status`` ``switching-over`` / ``failing-over`` and a
  ``FailoverState`` (``Status``, ``FromDbClusterArn``, ``ToDbClusterArn``,
  ``IsDataLossAllowed``). The writer flips (``IsWriter``), ``Status`` returns to ``available``
  and ``FailoverState`` disappears after a configurable number of ``DescribeGlobalClusters``
  calls (:func:`configure`), so callers must really poll; ``None`` never completes (a stuck
  promotion, to exercise a bounded wait).
* ``DescribeGlobalClusters`` honours ``GlobalClusterIdentifier`` (``GlobalClusterNotFoundFault``
  when unknown).
* Errors: ``GlobalClusterNotFoundFault`` (unknown global cluster), ``DBClusterNotFoundFault``
  (target is not a member; the target is matched by ARN, or by identifier in the caller's
  region), ``InvalidGlobalClusterStateFault`` (an operation is already in progress, or the
  switchover precondition fails), ``InvalidDBClusterStateFault`` (target region unavailable),
  ``InvalidParameterValue`` (target already the writer — the real service's exact answer here is
  not documented; this is the emulator's choice).
* Listeners (:func:`add_listener`) are called synchronously when an operation starts and when it
  completes, inside the request — a test or the drill can look at the world at that instant.

What is not emulated: engine-version compatibility checks, replication lag and the data actually
lost by a failover, ``cancelling``, the members' own ``Status`` and endpoints moving, the
``pending`` phase, events and timings. Region availability here is the *service-side* view;
client-side outages (connection errors) are :mod:`drill.faults`.

In-process (``moto.mock_aws``) and in moto's server mode the same response class serves the
request, so patching it works in both. ``python -m drill.emulator --port 0`` (what ``make drill``
starts) runs moto's server with this extension in its own process, plus control endpoints under
``/_drill/`` (:func:`control_app`) through which the drill reaches this process's state.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.core.responses import ActionResult
from moto.rds.exceptions import RDSClientError
from moto.rds.models import DBCluster, GlobalCluster
from moto.rds.responses import RDSResponse

STATUS_AVAILABLE = "available"
STATUS_SWITCHING_OVER = "switching-over"
STATUS_FAILING_OVER = "failing-over"

DEFAULT_DESCRIBES_UNTIL_COMPLETE = 2


@dataclass(frozen=True)
class GlobalClusterEvent:
    """One start or completion of a switchover/failover, as given to listeners."""

    phase: str  # "started" | "completed"
    operation: str  # "SwitchoverGlobalCluster" | "FailoverGlobalCluster"
    global_cluster_id: str
    from_cluster_arn: str
    to_cluster_arn: str
    allow_data_loss: bool


Listener = Callable[[GlobalClusterEvent], None]


@dataclass
class _EmulatorState:
    describes_until_complete: int | None = DEFAULT_DESCRIBES_UNTIL_COMPLETE
    unavailable_regions: set[str] = field(default_factory=set)
    listeners: list[Listener] = field(default_factory=list)
    events: list[GlobalClusterEvent] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)


_STATE = _EmulatorState()
_ORIGINAL_DESCRIBE = RDSResponse.describe_global_clusters
_INSTALLED_MARK = "_drill_emulator_installed"


@dataclass
class _Pending:
    operation: str
    target: DBCluster
    source: DBCluster
    allow_data_loss: bool
    remaining_describes: int | None


# --- public API ---------------------------------------------------------------------------


def install() -> None:
    """Patch moto's RDS responses with the calls above; calling it again does nothing."""
    if getattr(RDSResponse, _INSTALLED_MARK, False):
        return
    RDSResponse.switchover_global_cluster = _switchover_global_cluster  # type: ignore[attr-defined]
    RDSResponse.failover_global_cluster = _failover_global_cluster  # type: ignore[attr-defined]
    RDSResponse.describe_global_clusters = _describe_global_clusters  # type: ignore[method-assign]
    setattr(RDSResponse, _INSTALLED_MARK, True)


def uninstall() -> None:
    """Undo :func:`install` (moto's own describe comes back; the two calls disappear)."""
    if not getattr(RDSResponse, _INSTALLED_MARK, False):
        return
    del RDSResponse.switchover_global_cluster  # type: ignore[attr-defined]
    del RDSResponse.failover_global_cluster  # type: ignore[attr-defined]
    RDSResponse.describe_global_clusters = _ORIGINAL_DESCRIBE  # type: ignore[method-assign]
    setattr(RDSResponse, _INSTALLED_MARK, False)


def configure(*, describes_until_complete: int | None = DEFAULT_DESCRIBES_UNTIL_COMPLETE) -> None:
    """Set after how many ``DescribeGlobalClusters`` calls an operation completes.

    ``0`` completes within the starting call; ``None`` never completes. Applies to operations
    started afterwards.
    """
    if describes_until_complete is not None and describes_until_complete < 0:
        raise ValueError("describes_until_complete must be >= 0 or None")
    with _STATE.lock:
        _STATE.describes_until_complete = describes_until_complete


def set_region_available(region: str, available: bool) -> None:
    """Mark a region's RDS as (un)available for the service-side preconditions above."""
    with _STATE.lock:
        if available:
            _STATE.unavailable_regions.discard(region)
        else:
            _STATE.unavailable_regions.add(region)


def add_listener(listener: Listener) -> None:
    """Call ``listener`` on every start and completion (synchronously, inside the request)."""
    with _STATE.lock:
        _STATE.listeners.append(listener)


def events() -> list[GlobalClusterEvent]:
    """Every start and completion since the last :func:`reset`, in order."""
    with _STATE.lock:
        return list(_STATE.events)


def started(operation: str | None = None) -> list[GlobalClusterEvent]:
    """The accepted switchover/failover requests (optionally of one operation)."""
    return [e for e in events() if e.phase == "started" and (operation is None or e.operation == operation)]


def reset() -> None:
    """Forget listeners, events, unavailable regions and the completion setting."""
    with _STATE.lock:
        _STATE.describes_until_complete = DEFAULT_DESCRIBES_UNTIL_COMPLETE
        _STATE.unavailable_regions.clear()
        _STATE.listeners.clear()
        _STATE.events.clear()


# --- the patched response methods ---------------------------------------------------------


def _switchover_global_cluster(self: RDSResponse) -> ActionResult:
    params = self.params
    cluster = _start(
        self,
        operation="SwitchoverGlobalCluster",
        global_cluster_id=_required(params, "GlobalClusterIdentifier"),
        target_id=_required(params, "TargetDbClusterIdentifier"),
        allow_data_loss=False,
    )
    return ActionResult({"GlobalCluster": cluster})


def _failover_global_cluster(self: RDSResponse) -> ActionResult:
    params = self.params
    allow_data_loss = _as_bool(params.get("AllowDataLoss"))
    switchover = _as_bool(params.get("Switchover"))
    if allow_data_loss and switchover:
        raise RDSClientError(
            "InvalidParameterCombination",
            "AllowDataLoss and Switchover can't be specified together.",
        )
    cluster = _start(
        self,
        operation="FailoverGlobalCluster",
        global_cluster_id=_required(params, "GlobalClusterIdentifier"),
        target_id=_required(params, "TargetDbClusterIdentifier"),
        allow_data_loss=allow_data_loss,
    )
    return ActionResult({"GlobalCluster": cluster})


def _describe_global_clusters(self: RDSResponse) -> ActionResult:
    wanted = self.params.get("GlobalClusterIdentifier")
    clusters = self.global_backend.describe_global_clusters()
    if wanted:
        clusters = [c for c in clusters if c.global_cluster_identifier == str(wanted).lower()]
        if not clusters:
            raise _not_found(str(wanted))
    for cluster in clusters:
        _advance(cluster)
    return ActionResult({"GlobalClusters": clusters})


# --- the model ----------------------------------------------------------------------------


def _start(
    response: RDSResponse,
    *,
    operation: str,
    global_cluster_id: str,
    target_id: str,
    allow_data_loss: bool,
) -> GlobalCluster:
    backend = response.global_backend
    global_cluster = backend.global_clusters.get(global_cluster_id.lower())
    if global_cluster is None:
        raise _not_found(global_cluster_id)
    with _STATE.lock:
        if getattr(global_cluster, "drill_pending", None) is not None:
            raise RDSClientError(
                "InvalidGlobalClusterStateFault",
                f"Global cluster {global_cluster_id} has an operation in progress "
                f"(status {global_cluster.status}).",
            )
        target = _member(global_cluster, target_id, response.region)
        if target is None:
            raise RDSClientError(
                "DBClusterNotFoundFault",
                f"DBCluster {target_id} is not a member of global cluster {global_cluster_id}.",
            )
        source = next((m for m in global_cluster.members if m.is_writer), None)
        if source is None:
            raise RDSClientError(
                "InvalidGlobalClusterStateFault",
                f"Global cluster {global_cluster_id} has no writer.",
            )
        if target is source:
            raise RDSClientError(
                "InvalidParameterValue",
                f"DBCluster {target.db_cluster_arn} is already the primary cluster of "
                f"global cluster {global_cluster_id}.",
            )
        if target.region in _STATE.unavailable_regions:
            raise RDSClientError(
                "InvalidDBClusterStateFault",
                f"DBCluster {target.db_cluster_arn} is not available.",
            )
        if not allow_data_loss and source.region in _STATE.unavailable_regions:
            raise RDSClientError(
                "InvalidGlobalClusterStateFault",
                f"The primary cluster {source.db_cluster_arn} of global cluster "
                f"{global_cluster_id} is unavailable; a switchover needs a healthy primary "
                "(fail over with AllowDataLoss instead).",
            )
        status = STATUS_FAILING_OVER if allow_data_loss else STATUS_SWITCHING_OVER
        global_cluster.status = status
        global_cluster.failover_state = {
            "Status": status,
            "FromDbClusterArn": source.db_cluster_arn,
            "ToDbClusterArn": target.db_cluster_arn,
            "IsDataLossAllowed": allow_data_loss,
        }
        global_cluster.drill_pending = _Pending(
            operation=operation,
            target=target,
            source=source,
            allow_data_loss=allow_data_loss,
            remaining_describes=_STATE.describes_until_complete,
        )
        event = _record(global_cluster, "started")
        complete_now = _STATE.describes_until_complete == 0
    _notify(event)
    if complete_now:
        _complete(global_cluster)
    return global_cluster


def _advance(global_cluster: GlobalCluster) -> None:
    with _STATE.lock:
        pending: _Pending | None = getattr(global_cluster, "drill_pending", None)
        if pending is None or pending.remaining_describes is None:
            return
        pending.remaining_describes -= 1
        due = pending.remaining_describes <= 0
    if due:
        _complete(global_cluster)


def _complete(global_cluster: GlobalCluster) -> None:
    with _STATE.lock:
        pending: _Pending | None = getattr(global_cluster, "drill_pending", None)
        if pending is None:
            return
        pending.source.is_writer = False
        pending.target.is_writer = True
        # moto builds the Readers list of the writer from member order-independent flags,
        # so flipping the flags is all DescribeGlobalClusters needs.
        global_cluster.status = STATUS_AVAILABLE
        global_cluster.failover_state = None
        event = _record(global_cluster, "completed")
        global_cluster.drill_pending = None
    _notify(event)


def _record(global_cluster: GlobalCluster, phase: str) -> GlobalClusterEvent:
    pending: _Pending = global_cluster.drill_pending
    event = GlobalClusterEvent(
        phase=phase,
        operation=pending.operation,
        global_cluster_id=global_cluster.global_cluster_identifier,
        from_cluster_arn=pending.source.db_cluster_arn,
        to_cluster_arn=pending.target.db_cluster_arn,
        allow_data_loss=pending.allow_data_loss,
    )
    _STATE.events.append(event)
    return event


def _notify(event: GlobalClusterEvent) -> None:
    with _STATE.lock:
        listeners = list(_STATE.listeners)
    for listener in listeners:
        listener(event)


def _member(global_cluster: GlobalCluster, target_id: str, region: str) -> DBCluster | None:
    for member in global_cluster.members:
        if target_id.startswith("arn:"):
            if member.db_cluster_arn == target_id:
                return member
        elif member.region == region and member.db_cluster_identifier == target_id.lower():
            return member
    return None


def _not_found(global_cluster_id: str) -> RDSClientError:
    return RDSClientError("GlobalClusterNotFoundFault", f"Global cluster {global_cluster_id} not found.")


def _required(params: Any, name: str) -> str:
    value = params.get(name)
    if not value:
        raise RDSClientError("InvalidParameterValue", f"{name} is required.")
    return str(value)


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


# --- server mode --------------------------------------------------------------------------

CONTROL_PREFIX = "/_drill/"


def control_app(app: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap moto's WSGI app with the drill's control endpoints (this process's state).

    ``POST /_drill/regions/<region>/unavailable`` | ``/available`` — :func:`set_region_available`;
    ``POST /_drill/configure?describes_until_complete=<n|-1>`` — :func:`configure`;
    ``GET /_drill/events`` — :func:`events` as JSON;
    ``GET /_drill/writer?global_cluster_id=<id>`` — the writer ARN and status of a global cluster
    without advancing a pending operation (``DescribeGlobalClusters`` would).
    Everything else is moto.
    """
    import json
    from urllib.parse import parse_qs

    def respond(start_response: Callable[..., Any], status: str, body: Any) -> list[bytes]:
        data = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(CONTROL_PREFIX):
            return app(environ, start_response)
        parts = path[len(CONTROL_PREFIX) :].strip("/").split("/")
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        method = environ.get("REQUEST_METHOD", "GET")
        if (
            method == "POST"
            and len(parts) == 3
            and parts[0] == "regions"
            and parts[2] in ("available", "unavailable")
        ):
            set_region_available(parts[1], parts[2] == "available")
            return respond(
                start_response, "200 OK", {"region": parts[1], "available": parts[2] == "available"}
            )
        if method == "POST" and parts == ["configure"]:
            raw = int(query.get("describes_until_complete", DEFAULT_DESCRIBES_UNTIL_COMPLETE))
            configure(describes_until_complete=None if raw < 0 else raw)
            return respond(start_response, "200 OK", {"describes_until_complete": raw})
        if method == "GET" and parts == ["events"]:
            return respond(start_response, "200 OK", [e.__dict__ for e in events()])
        if method == "GET" and parts == ["writer"]:
            return respond(start_response, "200 OK", _writer_view(query.get("global_cluster_id", "")))
        return respond(start_response, "404 Not Found", {"error": f"unknown drill control path {path}"})

    return wsgi


def _writer_view(global_cluster_id: str) -> dict[str, Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.rds.models import rds_backends

    for backend in rds_backends[DEFAULT_ACCOUNT_ID].values():
        cluster = backend.global_clusters.get(global_cluster_id.lower())
        if cluster is not None:
            writer = next((m.db_cluster_arn for m in cluster.members if m.is_writer), None)
            return {"status": cluster.status, "writer": writer}
    return {"status": "not-found", "writer": None}


def serve(host: str = "127.0.0.1", port: int = 0) -> Any:
    """Start moto's server with this extension and the control endpoints in a thread.

    Returns the werkzeug server (``server.server_port`` is the port, ``shutdown()`` stops it).
    """
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    install()
    app = control_app(DomainDispatcherApplication(create_backend_app))
    server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> None:
    """Run moto's server with this extension installed (``python -m drill.emulator``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000, help="0: any free port (printed)")
    parser.add_argument(
        "--describes-until-complete",
        type=int,
        default=DEFAULT_DESCRIBES_UNTIL_COMPLETE,
        help="DescribeGlobalClusters calls until a switchover/failover completes (-1: never)",
    )
    parser.add_argument(
        "--exit-with-stdin",
        action="store_true",
        help="stop when stdin closes (the drill holds it open: a killed drill leaves no server)",
    )
    args = parser.parse_args(argv)
    configure(
        describes_until_complete=None if args.describes_until_complete < 0 else args.describes_until_complete
    )
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = serve(args.host, args.port)
    print(f"moto + drill.emulator listening on http://{args.host}:{server.server_port}", flush=True)
    stop = threading.Event()
    if args.exit_with_stdin:
        # EOF on stdin: the parent is gone, however it died (even SIGKILL).
        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    server.shutdown()


if __name__ == "__main__":
    main()
