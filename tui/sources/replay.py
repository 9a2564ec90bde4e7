"""Play a recorded incident back: a clock over the recording's time span that can pause and
seek, and a `HealthSource` that answers each refresh from the recording at that clock.

Everything in the cockpit that stamps or ages data asks the clock, so with `ReplayClock`
as the app's clock the ages, staleness and plots read as they did during the incident.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace

from tui.domain.model import GpuEvent, HistoryPoint, Snapshot
from tui.store.recording import Recording


class ReplayClock:
    """Unix seconds inside ``first..last``: from ``start`` (``first`` by default) they move
    with wall time × ``speed``, and stop, paused, on reaching ``last``.

    Paused or playing is kept across seeks; resuming at the end plays from the start again.
    """

    def __init__(
        self,
        first: float,
        last: float,
        *,
        start: float | None = None,
        speed: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if last < first:
            raise ValueError("A replay cannot end before it starts.")
        if speed <= 0:
            raise ValueError("A replay's speed must be above zero.")
        self.first = first
        self.last = last
        self._speed = speed
        self._monotonic = monotonic
        self._at = self._clamp(first if start is None else start)
        """Where the replay was at ``_since`` (monotonic seconds)."""
        self._since = monotonic()
        self._paused = False

    @classmethod
    def over(
        cls,
        recording: Recording,
        *,
        speed: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> ReplayClock:
        """A clock over the whole of ``recording``, at its first snapshot."""
        snaps = recording.snapshots
        first, last = snaps[0].taken_at.timestamp(), snaps[-1].taken_at.timestamp()
        return cls(first, last, speed=speed, monotonic=monotonic)

    def now(self) -> float:
        if self._paused:
            return self._at
        at = self._at + (self._monotonic() - self._since) * self._speed
        if at >= self.last:
            # Stop on the last snapshot rather than run on past what was recorded.
            self._anchor(self.last)
            self._paused = True
            return self.last
        return at

    @property
    def paused(self) -> bool:
        self.now()  # reaching the end pauses
        return self._paused

    @property
    def at_end(self) -> bool:
        return self.now() >= self.last

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, speed: float) -> None:
        if speed <= 0:
            raise ValueError("A replay's speed must be above zero.")
        self._anchor(self.now())
        self._speed = speed

    def pause(self) -> None:
        self._anchor(self.now())
        self._paused = True

    def resume(self) -> None:
        if not self.paused:
            return
        self._anchor(self.first if self.at_end else self._at)
        self._paused = False

    def toggle(self) -> None:
        if self.paused:
            self.resume()
        else:
            self.pause()

    def seek(self, delta_s: float) -> None:
        """Move ``delta_s`` seconds of recorded time (back when negative), within the span."""
        self.seek_to(self.now() + delta_s)

    def seek_to(self, t: float) -> None:
        self._anchor(self._clamp(t))

    def _anchor(self, at: float) -> None:
        self._at = at
        self._since = self._monotonic()

    def _clamp(self, t: float) -> float:
        return min(max(t, self.first), self.last)


class ReplaySource:
    """A `HealthSource` over a recording: each refresh is the snapshot recorded at or
    before the clock's now (the first one before the start).

    GPU events are delivered once each: a refresh brings the events of every snapshot
    after the latest one whose events were already delivered, up to the one it returns,
    so a seek forward delivers the events it skipped over. After a seek back nothing is
    delivered again, not even on playing forward over the same stretch: the cockpit's
    event log keeps what it learned, including events later than the replay's now.

    A recording read past damage says so in every snapshot's error, after any recorded.
    """

    def __init__(self, recording: Recording, clock: ReplayClock) -> None:
        if not recording.snapshots:
            raise ValueError("A replay needs at least one snapshot.")
        self.recording = recording
        self.clock = clock
        self.description = f"replay {recording.source}"
        self._times = [s.taken_at.timestamp() for s in recording.snapshots]
        self._delivered = -1
        """The latest snapshot whose events were delivered (its index)."""
        self._history: dict[str, list[HistoryPoint]] | None = None

    async def refresh(self) -> Snapshot:
        return self.refresh_now()

    async def history(self) -> dict[str, list[HistoryPoint]]:
        return self.history_now()

    async def aclose(self) -> None:
        pass

    def refresh_now(self) -> Snapshot:
        index = self.index_at(self.clock.now())
        snapshot = self.recording.snapshots[index]
        error = snapshot.error
        if self.recording.damage is not None:
            # On screen the whole replay: what plays is not all that was recorded.
            error = self.recording.damage if error is None else f"{error} {self.recording.damage}"
        return replace(snapshot, events=self._events_through(index), error=error)

    def history_now(self) -> dict[str, list[HistoryPoint]]:
        """Each model's recorded p99, 5xx and 429 ratios up to the clock's now, oldest first,
        with `tui.domain.model.AGGREGATE` for the whole API."""
        if self._history is None:
            self._history = _history(self.recording.snapshots)
        now = self.clock.now()
        return {
            model: points[: bisect_right(points, now, key=lambda p: p.at)]
            for model, points in self._history.items()
        }

    def index_at(self, t: float) -> int:
        """The snapshot recorded at or before ``t``; the first one before the start."""
        return max(0, bisect_right(self._times, t) - 1)

    def _events_through(self, index: int) -> tuple[GpuEvent, ...]:
        if index <= self._delivered:
            return ()
        events = tuple(
            event
            for snapshot in self.recording.snapshots[self._delivered + 1 : index + 1]
            for event in snapshot.events
        )
        self._delivered = index
        return events


def _history(snapshots: tuple[Snapshot, ...]) -> dict[str, list[HistoryPoint]]:
    """Every recorded figure as a history point. A stale model's values were carried from
    an earlier refresh, not measured then: plotting them would draw a flat line that was
    never seen, so they are left out."""
    history: dict[str, list[HistoryPoint]] = defaultdict(list)
    for snapshot in snapshots:
        at = snapshot.taken_at.timestamp()
        for m in (*snapshot.models, snapshot.aggregate):
            if not m.stale:
                history[m.model].append(
                    HistoryPoint(at, m.p99_s, m.error_5xx_ratio, m.rate_429_ratio)
                )
    return dict(history)
