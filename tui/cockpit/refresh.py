"""The collection loop: a refresh reads the health source (and NVML) off the event loop,
pod evidence is read at its own slower pace, and the history behind the plots once.

`HealthTracker` decides what to show, keeping the last good data when a refresh fails;
the panes are painted from it. A refresh in flight is never cancelled: during an
incident a slow source is the normal case, and a cancelled refresh would never land.
"""

from __future__ import annotations

import gc
from dataclasses import replace
from typing import TYPE_CHECKING

from tui.domain.model import Snapshot
from tui.errors import SourceError

if TYPE_CHECKING:
    from tui.cockpit.host import Cockpit
    from tui.cockpit.navigator import Navigator
    from tui.cockpit.panes import Panes
    from tui.cockpit.recording import RecordingKeeper
    from tui.cockpit.timeline_writes import TimelineWriter
    from tui.refresh.collect import Collector
    from widgets.screens.cockpit import CockpitScreen


class RefreshLoop:
    """Refreshes, pod evidence and the history, for one cockpit; what went wrong with
    each is kept for the top line (`last_error`, `evidence_note`, `history_note`)."""

    def __init__(
        self,
        app: Cockpit,
        collector: Collector,
        screen: CockpitScreen,
        panes: Panes,
        navigator: Navigator,
        timeline_writer: TimelineWriter,
        recording: RecordingKeeper,
    ) -> None:
        self.app = app
        self.collector = collector
        self.screen = screen
        self.panes = panes
        self.navigator = navigator
        self.timeline_writer = timeline_writer
        self.recording = recording
        self.last_error: str | None = None
        """Why the latest refresh failed, until one succeeds."""
        self.evidence_note: str | None = collector.pods_note
        """Why pod evidence is partial or off, when it is."""
        self.history_note: str | None = None
        """Why the history behind the plots was not loaded, when it was not."""
        self._refreshing = False
        """A refresh is running (until its recording is written): the next waits for it."""
        self._started: float | None = None
        """When the refresh in flight started, until its data (or failure) is in."""

    def load_history(self) -> None:
        self.app.run_worker(self._load_history, exclusive=True, group="history")

    async def _load_history(self) -> None:
        app = self.app
        try:
            points = await app.source.history()
        except SourceError as exc:
            self.history_note = f"History not loaded, so no plots or crossings before now: {exc}"
            app.notify(f"History not loaded: {exc}", severity="warning", timeout=8)
            return
        self.history_note = None
        app.tracker.backfill(points)
        self.panes.incident_from_history(points)
        # The incident clock on the top line may have moved back to the first crossing:
        # said now, not at the next tick (a replay paused, a frozen demo, has none).
        if self.screen.has_panes:
            self.panes.paint_status()
        if app.tracker.current is not None:
            # Before the first refresh lands the plots wait for it: drawing them twice
            # would only delay the first data on screen.
            self.panes.paint_plots()

    def start(self) -> bool:
        """Start a refresh unless one is in flight; False when one is: the next tick
        starts the next one after it ends, and meanwhile the top line says how long it
        has been out."""
        if self._refreshing:
            return False
        self._refreshing = True
        self._started = self.app.clock.now()
        self.app.run_worker(self._refresh, group="refresh")
        return True

    async def _refresh(self) -> None:
        try:
            await self._collect_and_paint()
        finally:
            self._started = None
            self._refreshing = False

    def late_s(self) -> float | None:
        """How long the refresh in flight has been out, once past the refresh interval."""
        started = self._started
        if started is None:
            return None
        out = self.app.clock.now() - started
        return out if out > self.app.config.refresh_s else None

    async def _collect_and_paint(self) -> None:
        app = self.app
        fresh: Snapshot | None = None
        try:
            fresh = await self.collector.collect()
            snapshot = app.tracker.accept(fresh)
            self.last_error = None
            self.timeline_writer.append_gpu_events(app.tracker.new_events)
        except SourceError as exc:
            self.last_error = str(exc)
            snapshot = app.tracker.fail(self.last_error)
        finally:
            # The data is in (or the refresh failed): no longer late, whatever follows.
            self._started = None
        if not self.screen.has_panes:
            return  # the refresh landed as the cockpit closed: no pane is left to paint
        if snapshot is not None:
            first = self.screen.empty
            self.panes.paint(snapshot, first=first)
            if first and app.live:
                # What start-up built (Textual, the runbooks, the widgets) lives as long
                # as the cockpit: out of the collector's sight, a full collection no longer
                # walks it, which was most of the slowest keypresses' time. (Not for the
                # tests' cockpits, live=False: hundreds in one process would never be freed.)
                gc.freeze()
            if self.collector.evidence_due():
                self.read_pod_evidence(snapshot)
        self.panes.paint_status()
        if not self.navigator.runbooks_checked:
            # Once the first refresh is on screen, whatever it brought.
            self.screen.call_after_refresh(self.navigator.check_runbooks)
        if fresh is not None:
            # Recorded after the paint: the screen does not wait on the recording's write.
            await self.recording.keep(fresh)

    def read_pod_evidence(self, snapshot: Snapshot) -> None:
        """Pod status and logs behind sick models: slower than a refresh, so apart from it."""

        async def read() -> None:
            evidence = await self.collector.pod_evidence(snapshot)
            if evidence is None:
                return
            self.evidence_note = evidence.error
            tracker = self.app.tracker
            learned = tracker.events.add(evidence.events)
            self.timeline_writer.append_gpu_events(learned)
            current = tracker.current
            if learned and current is not None:
                # Pod evidence reaches no snapshot by itself: a copy carrying it is
                # recorded, so a replay (and the report remade from it) sees the OOMs too.
                await self.recording.keep(replace(current, events=tuple(learned)))
            if current is not None:
                self.panes.paint(current)

        self.app.run_worker(read, exclusive=True, group="evidence")
