"""What the panes are handed: each snapshot judged, the plots' history and marks, the top line.

The cockpit's screen (`widgets.screens.cockpit`) paints and lays out; this gathers what it
paints from the tracker, the timeline and the refresh loop, and keeps the incident's
clock (when it began, from the earliest sign of it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from tui.clock import utc
from tui.durations import human_age
from tui.store.timeline import TimelineAnnotations

if TYPE_CHECKING:
    from tui.cockpit.host import Cockpit
    from tui.cockpit.navigator import Navigator
    from tui.domain.cause import SuspectedCause
    from tui.domain.model import HistoryPoint, Snapshot
    from widgets.screens.cockpit import CockpitScreen


class Panes:
    """Hands the cockpit's screen what it paints, and the open navigators their facts."""

    def __init__(self, app: Cockpit, screen: CockpitScreen, navigator: Navigator) -> None:
        self.app = app
        self.screen = screen
        self.navigator = navigator
        self.annotations = TimelineAnnotations()
        """The plots' marks and what is in force, followed from the timeline."""
        self.causes: Mapping[str, SuspectedCause] = {}
        """What GPU evidence says is behind each model's 5xx, as last painted."""
        self.incident_since: float | None = None
        """When the incident began (`incident_span`'s start), for the top line's clock."""

    def paint(self, snapshot: Snapshot, *, first: bool = False) -> None:
        app = self.app
        # The tracker's snapshot (every caller paints it), judged once when it arrived.
        assessed = app.tracker.assessed
        if assessed is None:
            return
        self.causes = assessed.causes
        events = app.tracker.events.all()
        self.screen.show(snapshot, assessed, events, app.evidence_note, first=first)
        self.follow_timeline()
        self.paint_plots()
        self.navigator.update(assessed)

    def timeline_moved(self) -> None:
        """The plots follow the timeline at once when it moved their marks (an action
        taken here, the canary drive's steps, another warroom's actions)."""
        if self.follow_timeline():
            self.paint_plots()

    def follow_timeline(self) -> bool:
        """The plots' marks and the in-force line, when the timeline (one stat a call)
        holds something new that moves them; True when they moved."""
        app = self.app
        if not self.annotations.update(app.timeline or app.report_timeline, app.clock.now()):
            return False
        self.screen.show_in_force(self.annotations.current.line)
        return True

    def paint_plots(self) -> None:
        """The selected model's history, with the marks of what was done."""
        app = self.app
        model = self.screen.selected
        marks = self.annotations.current.marks_for(model)
        self.screen.show_plots(app.tracker.points(model), app.clock.now(), marks)

    def paint_status(self) -> None:
        app = self.app
        snap = app.tracker.current
        now = app.clock.now()
        replay = None
        if app.replay is not None:
            # Where the playback is, in the recording's own time, and whether it runs.
            mark = " ⏸ paused" if app.replay.paused else f" ▶ {app.replay.speed:g}x"
            replay = f"{utc(now):%H:%M:%S}Z{mark}"
        reason = app.last_error
        read_at = app.tracker.gpus_read_at
        if reason is None and snap and snap.gpu_error and snap.gpus and read_at is not None:
            # The panes are fresh but the grid is not: say why, and how old it is.
            age = human_age(now - read_at.timestamp())
            reason = f"{snap.gpu_error.rstrip('.')}; the GPU grid shows data {age} old."
        # Judged once per refresh (the line redraws every second); every model counted,
        # whatever the name filter shows.
        assessed = app.tracker.assessed
        if assessed is not None and assessed.breaching:
            self.incident_began(assessed.snapshot.taken_at.timestamp())
        self.screen.show_status(
            snap,
            now,
            error=reason,
            assessed=assessed,
            late_s=app.refresh_late_s(),
            incident_since=self.incident_since,
            replay=replay,
        )

    def incident_began(self, at: float | None) -> None:
        """The incident clock starts at the earliest sign of it: the timeline's first
        entry, the first crossing in the history, or the first breach seen live."""
        if at is not None and (self.incident_since is None or at < self.incident_since):
            self.incident_since = at

    def incident_from_timeline(self) -> None:
        """The incident's first entry (its opening, on this clock) starts its clock."""
        from tui.domain.report import incident_span

        record = self.app.timeline or self.app.report_timeline
        try:
            entries = record.entries() if record is not None else []
        except OSError:
            entries = []
        self.incident_began(incident_span((), entries)[0])

    def incident_from_history(self, points: Mapping[str, Sequence[HistoryPoint]]) -> None:
        """The incident began at its first crossing, if the history holds one before the
        timeline's first entry (as the report reckons it)."""
        from tui.domain.report import crossings, incident_span

        began, _ = incident_span(crossings(points, self.app.config.slo), ())
        self.incident_began(began)

    def select(self, model: str) -> None:
        """The grid and the cause line follow ``model``, and the plots when it is new."""
        app = self.app
        if self.screen.select(model, app.tracker.assessed, app.evidence_note):
            self.paint_plots()

    def filter_by(self, text: str) -> None:
        """`/`: the table keeps the models whose names hold ``text``."""
        app = self.app
        if not self.screen.filter_by(text):
            return
        app.refresh_bindings()  # escape clears a filter, and only while there is one
        if app.tracker.current is None:
            return
        self.paint(app.tracker.current)
        # The selected model filtered out: the cursor stays on its row, now another
        # model's, and the plots and the cause line follow that one.
        if (model := self.screen.cursor_model) is not None:
            self.select(model)
