"""Fault shims for boto3/botocore clients and HTTP calls: throttling, failing calls, outages.

Faults are injected at botocore's ``before-send`` event, i.e. *after* the client built and
signed the request and *inside* its retry loop — exactly where a real throttle or a 500 from
the service shows up — so botocore's standard retry mode sees them as it would see the real
thing (and a fault of ``times=1`` is absorbed by one retry). Attach a client with
:meth:`FaultInjector.attach`.

* :meth:`FaultInjector.throttle` — answers HTTP 400 ``ThrottlingException`` (retryable).
* :meth:`FaultInjector.fail` — answers HTTP 500 ``InternalFailure`` (retryable), or any code.
* :meth:`FaultInjector.region_outage` — every call to the region raises
  ``EndpointConnectionError`` (what a client sees when the regional endpoint is unreachable),
  and :meth:`FaultInjector.region_down` tells non-botocore callers (HTTP probes, the drill's
  simulated API clients) to treat the region as unreachable.

Every injected fault is recorded in :attr:`FaultInjector.hits`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError

KIND_THROTTLE = "throttle"
KIND_ERROR = "error"
KIND_OUTAGE = "outage"


@dataclass
class Fault:
    """One rule; ``None`` matches anything; ``times=None`` fires until removed."""

    kind: str
    service: str | None = None
    operation: str | None = None
    region: str | None = None
    times: int | None = 1
    code: str = "ThrottlingException"
    status: int = 400
    fired: int = 0

    def matches(self, service: str, operation: str, region: str) -> bool:
        """True when the rule applies to this call and has shots left."""
        if self.times is not None and self.fired >= self.times:
            return False
        return (
            (self.service is None or self.service == service)
            and (self.operation is None or self.operation == operation)
            and (self.region is None or self.region == region)
        )

    def describe(self) -> str:
        """One line for the drill's output."""
        what = {
            KIND_THROTTLE: f"throttling ({self.code})",
            KIND_ERROR: f"failing call (HTTP {self.status} {self.code})",
            KIND_OUTAGE: "region outage (connection errors)",
        }[self.kind]
        scope = "/".join(p for p in (self.service, self.operation, self.region) if p) or "every call"
        times = "until restored" if self.times is None else f"{self.times}x"
        return f"{what} on {scope}, {times}"


@dataclass(frozen=True)
class FaultHit:
    """One injected fault."""

    kind: str
    service: str
    operation: str
    region: str


@dataclass
class FaultInjector:
    """The fault rules of a drill; thread-safe."""

    faults: list[Fault] = field(default_factory=list)
    hits: list[FaultHit] = field(default_factory=list)
    #: Called (outside the lock) with every fault injected into a botocore client.
    on_hit: Callable[[FaultHit], Any] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def throttle(self, service: str, operation: str, *, region: str | None = None, times: int = 1) -> Fault:
        """The next ``times`` matching calls are throttled."""
        return self._add(Fault(KIND_THROTTLE, service, operation, region, times))

    def fail(
        self,
        service: str,
        operation: str,
        *,
        region: str | None = None,
        times: int = 1,
        code: str = "InternalFailure",
        status: int = 500,
    ) -> Fault:
        """The next ``times`` matching calls fail with ``status``/``code``."""
        return self._add(Fault(KIND_ERROR, service, operation, region, times, code=code, status=status))

    def region_outage(self, region: str) -> Fault:
        """Every call to ``region`` fails to connect until :meth:`restore`."""
        return self._add(Fault(KIND_OUTAGE, region=region, times=None, code="", status=0))

    def restore(self, region: str) -> None:
        """End the outage of ``region``."""
        with self._lock:
            self.faults = [f for f in self.faults if not (f.kind == KIND_OUTAGE and f.region == region)]

    def region_down(self, region: str) -> bool:
        """True while ``region`` has an outage (for callers that are not botocore clients)."""
        with self._lock:
            return any(f.kind == KIND_OUTAGE and f.region == region for f in self.faults)

    def record_unreachable(self, service: str, operation: str, region: str) -> None:
        """Record a non-botocore call refused by an outage (probes, simulated API clients)."""
        with self._lock:
            self.hits.append(FaultHit(KIND_OUTAGE, service, operation, region))

    def attach(self, client: Any) -> Any:
        """Inject this injector's faults into ``client`` (returns it)."""
        region = client.meta.region_name
        client.meta.events.register("before-send", self._before_send(region))
        return client

    def count(self, kind: str) -> int:
        """How many faults of ``kind`` were injected."""
        with self._lock:
            return sum(1 for h in self.hits if h.kind == kind)

    # -- internals ----------------------------------------------------------------------
    def _add(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def _before_send(self, region: str) -> Any:
        def handler(request: Any, event_name: str = "", **_: Any) -> AWSResponse | None:
            # event_name: before-send.<service-id>.<Operation>
            _, service, operation = [*event_name.split(".", 2), "", ""][:3]
            with self._lock:
                fault = next((f for f in self.faults if f.matches(service, operation, region)), None)
                if fault is None:
                    return None
                fault.fired += 1
                hit = FaultHit(fault.kind, service, operation, region)
                self.hits.append(hit)
            if self.on_hit is not None:
                self.on_hit(hit)
            if fault.kind == KIND_OUTAGE:
                raise EndpointConnectionError(endpoint_url=request.url)
            return _error_response(request, fault, service)

        return handler


def _error_response(request: Any, fault: Fault, service: str) -> AWSResponse:
    # JSON protocol services (DynamoDB, SNS via query is XML) read different error shapes:
    # answer in the shape the service's parser expects.
    if service in ("dynamodb", "dynamodb-streams", "lambda", "cloudwatch-logs"):
        body = json.dumps({"__type": f"com.amazonaws#{fault.code}", "message": "injected by drill.faults"})
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": fault.code}
    else:
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{fault.code}</Code>"
            "<Message>injected by drill.faults</Message></Error>"
            "<RequestId>drill-fault</RequestId></ErrorResponse>"
        )
        headers = {"Content-Type": "text/xml"}
    raw = _Raw(body.encode())
    return AWSResponse(request.url, fault.status, headers, raw)


class _Raw:
    """The minimal urllib3-like body botocore reads from a short-circuited response."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Any:
        yield self._data

    def read(self, *_: Any) -> bytes:
        data, self._data = self._data, b""
        return data
