"""Space, `[` and `]`: pausing and seeking a recording played back in the cockpit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.refresh.tracker import HealthTracker

if TYPE_CHECKING:
    from tui.cockpit.host import Cockpit
    from tui.cockpit.panes import Panes


class ReplayKeys:
    """Acts on the app's replay clock; without one (a live cockpit) the keys are off."""

    def __init__(self, app: Cockpit, panes: Panes) -> None:
        self.app = app
        self.panes = panes

    def pause(self) -> None:
        replay = self.app.replay
        if replay is not None:
            replay.toggle()
            self.panes.paint_status()

    def seek(self, seconds: float) -> None:
        """Jump through the recording: the panes and plots start over from there."""
        app = self.app
        if app.replay is None:
            return
        app.replay.seek(seconds)
        # The plots start over from the new place; the GPU events already learned stay
        # (the source hands each one over only once).
        events = app.tracker.events
        app.tracker = HealthTracker(app.config.history_s, app.config.slo)
        app.tracker.events = events
        app.load_history()
        app.refresh_data()
