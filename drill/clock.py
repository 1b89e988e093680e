"""A simulated clock: ``sleep`` advances ``now`` instead of waiting.

Give ``clock.now`` and ``clock.sleep`` to code that takes an injected clock and sleeper (the
failover orchestrator does), and a four-minute bounded wait runs in microseconds while its
timeline keeps realistic timestamps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class SimulatedClock:
    """Epoch seconds that move only when someone sleeps (or :meth:`advance` is called)."""

    start: float = 1_767_225_600.0  # 2026-01-01T00:00:00Z
    _now: float = field(init=False)
    sleeps: list[float] = field(default_factory=list)
    on_sleep: list[Callable[[float], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._now = self.start

    def now(self) -> float:
        """The current simulated time (epoch seconds)."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward without recording a sleep."""
        if seconds < 0:
            raise ValueError("time does not run backwards")
        self._now += seconds

    def sleep(self, seconds: float) -> None:
        """Record the sleep, move time forward, then run the ``on_sleep`` hooks."""
        self.sleeps.append(seconds)
        self.advance(max(seconds, 0.0))
        for hook in list(self.on_sleep):
            hook(seconds)

    @property
    def elapsed(self) -> float:
        """Seconds since the start."""
        return self._now - self.start
