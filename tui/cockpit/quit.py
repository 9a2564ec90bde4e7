"""`q`: quit at once when nothing is going on, else ask first, saying what quitting would leave."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen

from tui.domain.drive_state import END_PHASES
from tui.domain.entries import CLOSED, OPENED
from widgets.screens.quit_confirm import QuitConfirm, reasons_to_ask

if TYPE_CHECKING:
    from tui.cockpit.host import Cockpit


class QuitQuestion:
    """The question `q` asks during an incident, and the reasons it gives."""

    def __init__(self, app: Cockpit) -> None:
        self.app = app
        self.screen: QuitConfirm | None = None
        """The question while it is asked."""

    def ask(self) -> None:
        """`q`: quit at once when nothing is going on, else ask first (`QuitConfirm`)."""
        app = self.app
        if self.screen is not None:
            return  # already asking: a second q is no answer
        reasons = self.reasons()
        if not reasons:
            app.exit(0)
            return
        timeline = app.report_timeline.path if app.report_timeline is not None else None
        self.screen = QuitConfirm(reasons, timeline)
        app.push_screen(self.screen, lambda leave: app.exit(0) if leave else None)

    def closed(self, screen: Screen[object]) -> None:
        if screen is self.screen:
            self.screen = None

    def reasons(self) -> list[str]:
        """What `q` would end or leave behind; empty when nothing is going on. A replay
        changes nothing and leaves nothing open: it quits at once."""
        app = self.app
        if app.replay is not None:
            return []
        assessed = app.tracker.assessed
        drive = app.drive.state if app.drive is not None else None
        mitigating = any(
            w.group in ("mitigation", "canary-steer") and not w.is_finished for w in app.workers
        )
        return reasons_to_ask(
            breaching=assessed.breaching if assessed is not None else 0,
            timeline_open=self._incident_open(),
            canary=(
                f"{drive.phase} at {drive.stage_pct} %"
                if drive is not None and drive.phase not in END_PHASES
                else None
            ),
            mitigating=mitigating,
        )

    def _incident_open(self) -> bool:
        """The incident's timeline holds entries since it last closed, beyond its opening
        (every cockpit opens one: that alone is no incident to leave)."""
        timeline = self.app.report_timeline
        if timeline is None:
            return False
        try:
            entries = timeline.entries()
        except OSError:
            return False
        kinds = [e.get("kind") for e in entries]
        last_close = max((i for i, k in enumerate(kinds) if k == CLOSED), default=-1)
        return any(k != OPENED for k in kinds[last_close + 1 :])
