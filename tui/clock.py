"""Clocks: the wall clock in production, a faster simulated one for the demo, a frozen one
for tests. Everything that stamps or ages data asks a `Clock`, never `time` directly."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Unix seconds."""
        ...


class WallClock:
    def now(self) -> float:
        return time.time()


class SimClock:
    """Simulated time for the demo: starts ``at_s`` seconds after ``epoch`` and runs ``speed``
    times faster than real time."""

    def __init__(self, epoch: float, at_s: float = 0.0, speed: float = 1.0) -> None:
        self.epoch = epoch
        self.speed = speed
        self._at_s = at_s
        self._t0 = time.monotonic()

    def now(self) -> float:
        return self.epoch + self._at_s + (time.monotonic() - self._t0) * self.speed


class FrozenClock:
    def __init__(self, at: float) -> None:
        self.at = at

    def now(self) -> float:
        return self.at


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
