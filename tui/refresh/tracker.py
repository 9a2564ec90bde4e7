"""The snapshot layer between sources and widgets: what the screen should show now.

A source either delivers a whole fresh snapshot or fails with one sentence. The
tracker turns that stream into what an engineer can trust: the last good values stay
on screen when a refresh fails, marked stale with the time they were read; a model
whose series vanish is carried forward, marked stale, rather than silently dropped;
and each model's history for the plot grows with every fresh refresh. The snapshot
to show is judged here, once per refresh (`HealthTracker.assessed`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from tui.config import Slo
from tui.domain.assessed import Assessed
from tui.domain.entries import gpu_event_of, same_xid
from tui.domain.model import GpuEvent, GpuState, HistoryPoint, ModelHealth, Snapshot
from tui.store.timeline import Timeline

_MAX_POINTS = 720
"""Cap per model so a long incident cannot grow memory without bound."""
_MAX_EVENTS = 2000


class EventLog:
    """GPU events learned so far, oldest first, each once however often it is read.

    An XID a resumed incident's timeline recorded, read again at another time (a restart
    reads it from the gauge's history on another step grid), is the one recorded, by the
    rule the timeline records by (`tui.domain.entries.XID_SAME_WITHIN_S`): the live report
    then counts it once."""

    def __init__(self, limit: int = _MAX_EVENTS) -> None:
        self._events: deque[GpuEvent] = deque(maxlen=limit)
        self.learned = 0
        """Events taken so far, ever: moves whenever what `all` returns does."""
        self._keys: set[tuple[object, ...]] = set()
        self._recorded: dict[tuple[str | None, int | None], GpuEvent] = {}
        """Each GPU's latest XID in the resumed timeline (`resume`)."""

    def add(self, events: Iterable[GpuEvent]) -> list[GpuEvent]:
        """Take ``events``; returns the ones not seen before, oldest first."""
        new = []
        last = self._events[-1].at if self._events else None
        for event in sorted(events, key=lambda e: e.at):
            if event.key in self._keys:
                continue
            if event.kind == "xid":
                held = self._recorded.get((event.node, event.gpu))
                if held is not None and same_xid(held, event):
                    continue
            if len(self._events) == self._events.maxlen:
                self._keys.discard(self._events[0].key)
            self._events.append(event)
            self._keys.add(event.key)
            new.append(event)
        self.learned += len(new)
        if new and last is not None and new[0].at < last:
            # Log lines and terminations arrive after the XIDs of the same minute.
            ordered = sorted(self._events, key=lambda e: e.at)
            self._events.clear()
            self._events.extend(ordered)
        return new

    def resume(self, timeline: Timeline | None) -> None:
        """Hold the XIDs a resumed incident's timeline recorded: a restart reads them
        again from the history at other times, and they are these, not new ones."""
        if timeline is None:
            return
        try:
            entries = timeline.entries()
        except OSError:
            return  # said when the timeline is written
        xids = [e for e in map(gpu_event_of, entries) if e is not None and e.kind == "xid"]
        self.add(xids)
        for event in xids:
            self._recorded[(event.node, event.gpu)] = event

    def all(self) -> tuple[GpuEvent, ...]:
        return tuple(self._events)

    def __len__(self) -> int:
        return len(self._events)


class HealthTracker:
    def __init__(self, history_s: float, slo: Slo | None = None) -> None:
        self.history_s = history_s
        self.slo = slo or Slo()
        """What the snapshots are judged against (`assessed`)."""
        self.current: Snapshot | None = None
        self._assessed: tuple[Assessed, EventLog, int] | None = None
        """The current snapshot judged, with the event log and its count it read."""
        self.history: dict[str, deque[HistoryPoint]] = {}
        self._last_fresh: dict[str, datetime] = {}
        self.events = EventLog()
        self.new_events: list[GpuEvent] = []
        """Events the latest accepted snapshot brought that were not known before."""
        self.gpus_read_at: datetime | None = None
        """When the GPUs shown were read fresh; None before the first reading."""

    def backfill(self, points: dict[str, list[HistoryPoint]]) -> None:
        """Seed the plots from the source's history; points already held win."""
        for model, series in points.items():
            held = self.history.get(model)
            first_held = held[0].at if held else float("inf")
            older = [p for p in series if p.at < first_held]
            merged = deque(older, maxlen=_MAX_POINTS)
            if held:
                merged.extend(held)
            self.history[model] = merged
        self._trim()

    def accept(self, fresh: Snapshot) -> Snapshot:
        """Take a successful refresh; returns the snapshot to show."""
        for m in (*fresh.models, fresh.aggregate):
            self._last_fresh[m.model] = fresh.taken_at
        seen = {m.model for m in fresh.models}
        carried: list[ModelHealth] = []
        if self.current is not None:
            # A model gone for longer than the plots reach was retired, not lost: carried
            # for ever it would keep the whole screen marked stale.
            horizon = fresh.taken_at.timestamp() - self.history_s
            carried = [
                m.marked_stale()
                for m in self.current.models
                if m.model not in seen and self._last_fresh[m.model].timestamp() >= horizon
            ]
        stale_since = min((self._last_fresh[m.model] for m in carried), default=None)
        gpus = fresh.gpus
        if gpus:
            self.gpus_read_at = fresh.taken_at
        elif fresh.gpu_error and self.current is not None and self.current.gpus:
            # The GPU reading failed on its own: keep the last grid, marked stale.
            gpus = _stale_gpus(self.current.gpus)
        error = fresh.error or _vanished(carried, stale_since) or _no_figures(fresh.models)
        shown = replace(
            fresh,
            models=(*fresh.models, *carried),
            stale_since=stale_since,
            gpus=gpus,
            error=error,
        )
        self.new_events = self.events.add(fresh.events)
        self._show(shown)
        at = fresh.taken_at.timestamp()
        for m in (*fresh.models, fresh.aggregate):
            self._append(m.model, HistoryPoint(at, m.p99_s, m.error_5xx_ratio, m.rate_429_ratio))
        self._trim(now=at)
        return shown

    def fail(self, reason: str) -> Snapshot | None:
        """Record a failed refresh; returns the last good data marked stale, or None if
        there never was any."""
        if self.current is None:
            return None
        prev = self.current
        stale_since = min(
            (self._last_fresh.get(m.model, prev.taken_at) for m in prev.models),
            default=prev.taken_at,
        )
        shown = replace(
            prev,
            models=tuple(m.marked_stale() for m in prev.models),
            aggregate=prev.aggregate.marked_stale(),
            gpus=_stale_gpus(prev.gpus),
            events=(),
            error=reason,
            stale_since=min(stale_since, prev.stale_since or stale_since),
        )
        self._show(shown)
        return shown

    def _show(self, snapshot: Snapshot) -> None:
        """``snapshot`` becomes the one on screen, judged once here for every reader."""
        self.current = snapshot
        events = self.events
        assessed = Assessed.build(snapshot, self.slo, events=events.all(), within_s=self.history_s)
        self._assessed = (assessed, events, events.learned)

    @property
    def assessed(self) -> Assessed | None:
        """The current snapshot's verdicts, causes and worst symptom; None before any
        data. Judged once per refresh (`accept`, `fail`): GPU events learned since (pod
        evidence, read apart from the refresh) bring the causes up to date, never a
        second judgement."""
        held = self._assessed
        if held is None:
            return None
        assessed, log, count = held
        if log is not self.events or count != self.events.learned:
            assessed = assessed.with_events(self.events.all())
            self._assessed = (assessed, self.events, self.events.learned)
        return assessed

    def points(self, model: str) -> list[HistoryPoint]:
        return list(self.history.get(model, ()))

    def _append(self, model: str, point: HistoryPoint) -> None:
        series = self.history.setdefault(model, deque(maxlen=_MAX_POINTS))
        if series and series[-1].at >= point.at:
            return
        series.append(point)

    def _trim(self, now: float | None = None) -> None:
        for series in self.history.values():
            if not series:
                continue
            horizon = (now if now is not None else series[-1].at) - self.history_s
            while series and series[0].at < horizon:
                series.popleft()


def _vanished(carried: list[ModelHealth], since: datetime | None) -> str | None:
    """Why some rows are stale although the refresh succeeded: their series are gone."""
    if not carried or since is None:
        return None
    gone = sorted(m.model for m in carried)  # by name: the sentence must not reshuffle
    names = ", ".join(gone[:3]) + (", …" if len(gone) > 3 else "")
    many = f"{len(carried)} models" if len(carried) > 1 else "1 model"
    return (
        f"No series for {many} since {since:%H:%M:%S}Z ({names}); their last figures are "
        "shown stale: check their scrape targets."
    )


def _no_figures(models: tuple[ModelHealth, ...]) -> str | None:
    """A refresh whose every value was missing, NaN or infinite reads as '0 breaching'
    unless something says that nothing was measured."""
    figures = ("p99_s", "rps", "error_5xx_ratio", "rate_429_ratio")
    if not models or any(getattr(m, f) is not None for m in models for f in figures):
        return None
    return (
        f"No model has a usable figure ({len(models)} read, every value missing, not a "
        "number or infinite): no breach shown is not health."
    )


def _stale_gpus(gpus: tuple[GpuState, ...]) -> tuple[GpuState, ...]:
    return tuple(g if g.stale else replace(g, stale=True) for g in gpus)
