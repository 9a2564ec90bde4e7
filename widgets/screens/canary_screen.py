"""The canary screen: the canary view full screen, with the keys that steer the drive.

Keys only post messages; the app decides what they do (a confirmation first for
anything that moves traffic) and hands the screen each new state through `show`.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.message import Message
from textual.screen import Screen

from tui.domain.canary import CanaryPolicy
from tui.domain.drive_state import DECIDED, DriveState
from widgets.canary_view import CanaryView
from widgets.keymap import bindings

DRIVE_ONLY = ("pause", "promote")
"""Keys that steer a drive warroom runs; watching someone else's, they do nothing."""


class CanaryScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = bindings("canary")

    class Pause(Message):
        """``p``: hold the stage (or resume)."""

    class Promote(Message):
        """``P``: skip to 100 %, once confirmed."""

    class Abort(Message):
        """``A``: the drained rollback, once confirmed."""

    def __init__(self, *, watch_only: bool, acts: bool = True) -> None:
        super().__init__()
        self.watch_only = watch_only
        self.acts = acts
        self.state = DriveState()
        self._policy = CanaryPolicy()
        self._now = 0.0

    def compose(self) -> ComposeResult:
        yield CanaryView(id="canary")

    def on_mount(self) -> None:
        self._paint()

    def show(self, state: DriveState, policy: CanaryPolicy, now: float) -> None:
        """Keep what to draw; draw it now if the view is up, else when it mounts."""
        if state.phase != self.state.phase:
            self.refresh_bindings()
        self.state, self._policy, self._now = state, policy, now
        if self.is_mounted:
            self._paint()

    def _paint(self) -> None:
        view = self.query_one(CanaryView)
        view.show(self.state, self._policy, self._now, self.watch_only, self.acts)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("pause", "promote", "abort"):
            if not self.acts or (self.watch_only and action in DRIVE_ONLY):
                return False
            # Shown but greyed: the drive has ended or is already rolling back.
            return None if self.state.phase in DECIDED else True
        return True

    def action_pause(self) -> None:
        self.post_message(self.Pause())

    def action_promote(self) -> None:
        self.post_message(self.Promote())

    def action_abort(self) -> None:
        self.post_message(self.Abort())
