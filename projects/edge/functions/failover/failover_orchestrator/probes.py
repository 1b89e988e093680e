"""HTTP health probes of the regional APIs (step 3), run from the orchestrator's region."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One probe: ``ok`` only for HTTP 200."""

    url: str
    ok: bool
    status: int | None
    error: str | None = None


Probe = Callable[[str, float], ProbeResult]


def http_probe(url: str, timeout: float) -> ProbeResult:
    """GET ``url``; any answer other than 200, or no answer within ``timeout``, is a failure."""
    if not url.startswith(("https://", "http://")):
        return ProbeResult(url=url, ok=False, status=None, error="not an http(s) URL")
    request = urllib.request.Request(url, method="GET", headers={"User-Agent": "trading-failover-probe"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked above
            return ProbeResult(url=url, ok=response.status == 200, status=response.status)
    except urllib.error.HTTPError as exc:
        return ProbeResult(url=url, ok=False, status=exc.code, error=f"HTTP {exc.code}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return ProbeResult(url=url, ok=False, status=None, error=type(exc).__name__ + ": " + str(exc))


@dataclass(frozen=True, slots=True)
class ProbeSummary:
    """The confirmation round: primary-down needs every probe to fail, the target a majority ok."""

    source_results: tuple[ProbeResult, ...]
    target_results: tuple[ProbeResult, ...]

    @property
    def source_down(self) -> bool:
        """Every probe of the region we would leave failed (it was probed at all)."""
        return bool(self.source_results) and not any(r.ok for r in self.source_results)

    @property
    def target_healthy(self) -> bool:
        """More than half of the probes of the target answered 200."""
        ok = sum(1 for r in self.target_results if r.ok)
        return ok * 2 > len(self.target_results)


def confirm(
    probe: Probe,
    *,
    source_url: str | None,
    target_url: str,
    count: int,
    interval_seconds: float,
    timeout_seconds: float,
    sleep: Callable[[float], None],
) -> ProbeSummary:
    """Probe both regions ``count`` times, ``interval_seconds`` apart (``source_url`` None:
    planned operations probe only the target)."""
    source: list[ProbeResult] = []
    target: list[ProbeResult] = []
    for attempt in range(count):
        if attempt:
            sleep(interval_seconds)
        if source_url is not None:
            source.append(probe(source_url, timeout_seconds))
        target.append(probe(target_url, timeout_seconds))
    return ProbeSummary(tuple(source), tuple(target))
