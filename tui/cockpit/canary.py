"""`c`: the canary rollout, the drive this cockpit runs or a watch on someone else's."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Literal

from textual.screen import Screen

from tui.actions.kube import ActionError
from tui.domain.canary import CanaryPolicy, policy_of
from tui.domain.canary_watch import CanaryWatch
from tui.domain.drive_state import DECIDED, DriveState
from tui.domain.model import AGGREGATE
from tui.errors import WarroomError
from tui.sources.base import CanarySource
from widgets.screens.canary_screen import CanaryScreen
from widgets.screens.confirm_action import ConfirmAction

if TYPE_CHECKING:
    from textual.timer import Timer

    from tui.cockpit.host import Cockpit
    from tui.cockpit.mitigations import Mitigations
    from tui.cockpit.timeline_writes import TimelineWriter


class CanaryControl:
    """The canary screen, the reads that keep it current and the keys that steer a drive."""

    def __init__(self, app: Cockpit, writer: TimelineWriter, mitigations: Mitigations) -> None:
        self.app = app
        self.writer = writer
        self.mitigations = mitigations
        config, canary = app.config, app.drive
        self.policy: CanaryPolicy = (
            canary.policy if canary is not None
            else policy_of(config.canary, config.mitigations.drain_timeout_s)
        )  # fmt: skip
        self.watching: CanaryWatch | None = None
        """The watch on a rollout someone else drives, from the first `c` on."""
        self.screen: CanaryScreen | None = None
        """The canary screen while it is open (a confirmation over it counts)."""
        self._watch_timer: Timer | None = None
        self._phase: str | None = None

    def start(self) -> None:
        """The drive this cockpit runs starts with the cockpit, its screen up."""
        drive = self.app.drive
        if drive is not None:
            drive.on_change = self._changed
            self.app.run_worker(self._drive, exclusive=True, group="canary")
            self.open()

    def open(self) -> None:
        """The canary screen: the drive this cockpit runs, else a watch on the rollout
        whoever drives it."""
        app = self.app
        if self.screen is not None:
            return
        watching = app.drive is None
        screen = CanaryScreen(watch_only=watching, acts=not app.config.kiosk)
        self.screen = screen
        app.push_screen(screen)
        if watching:
            if self.watching is None:
                self.watching = CanaryWatch(self.policy)
            if self._watch_timer is not None:
                self._watch_timer.stop()
            self.watch()
            if app.live:
                self._watch_timer = app.set_interval(app.config.refresh_s, self._watch_tick)
        self.paint()

    def closed(self, screen: Screen[object]) -> None:
        if screen is self.screen:
            self.screen = None

    def _watch_tick(self) -> None:
        # Read only while the screen is up (a confirmation over it counts): a closed
        # view costs no queries.
        if self.screen is not None:
            self.watch()
        elif self._watch_timer is not None:
            self._watch_timer.stop()
            self._watch_timer = None

    def watch(self) -> None:
        self.app.run_worker(self._watch, exclusive=True, group="canary-watch")

    async def _watch(self) -> None:
        """One look at a rollout someone else drives: its figures, and the route's weight
        when the cluster is configured (else the traffic share tells the stage)."""
        app = self.app
        watch = self.watching
        assert watch is not None
        source = app.source
        now = app.clock.now()
        if not isinstance(source, CanarySource):
            watch.observe(now, None, error=f"{source.description} cannot read a canary.")
            self.paint()
            return
        reading, weight, error = None, None, None
        try:
            reading = await source.canary(watch.window_s(now))
        except WarroomError as exc:
            error = f"Canary figures not read: {exc}"
        if app.mitigator is not None and app.mitigator.settings.canary_route:
            try:
                weight = await app.mitigator.canary_weight()
            except ActionError as exc:
                error = error or f"{exc} The stage is taken from the traffic share instead."
        watch.observe(now, reading, weight=weight, error=error)
        self.paint()

    async def _drive(self) -> None:
        """The demo's canary drive, start to end, on the cockpit's own event loop."""
        drive = self.app.drive
        assert drive is not None
        try:
            await drive.run()
        except OSError as exc:
            pct = drive.state.stage_pct
            self.writer.failed(exc, f"the canary drive stopped at {pct} %", timeout=30)

    def _changed(self, state: DriveState) -> None:
        self.paint()
        if state.phase == self._phase:
            return
        self._phase = state.phase
        # The moments that matter reach the engineer wherever they are; on the canary
        # screen the view already says them, and a toast would only cover its gates.
        if state.phase in DECIDED and not isinstance(self.app.screen, CanaryScreen):
            severity = "information" if state.phase == "promoted" else "error"
            self.app.notify(state.message, title=f"Canary {state.phase}", severity=severity,
                            timeout=20)  # fmt: skip

    def _state(self) -> DriveState | None:
        if self.app.drive is not None:
            return self.app.drive.state
        return self.watching.state if self.watching is not None else None

    def paint(self) -> None:
        state = self._state()
        if state is None or self.screen is None:
            return
        self.screen.show(state, self.policy, self.app.clock.now())

    def pause(self) -> None:
        drive = self.app.drive
        if drive is not None:
            drive.pause(not drive.state.paused)

    def promote(self) -> None:
        if self.app.drive is not None:
            self._steer("promote")

    def abort(self) -> None:
        if self.app.drive is None:
            # Someone else's drive: taking the canary out is the mitigation it always is.
            self.mitigations.open(["drained-rollback"], AGGREGATE)
        else:
            self._steer("abort")

    def _steer(self, what: Literal["promote", "abort"]) -> None:
        self.app.run_worker(partial(self._steered, what), exclusive=True, group="canary-steer")

    async def _steered(self, what: Literal["promote", "abort"]) -> None:
        """Promote or abort the drive, once the change it makes has been confirmed."""
        app = self.app
        drive = app.drive
        assert drive is not None
        blocked = self.mitigations.blocked
        why_not = blocked.get("drained-rollback") if drive.route is app.mitigator else None
        if why_not:
            app.notify(why_not, severity="error", timeout=12)
            return
        try:
            if what == "abort":
                plan = await drive.route.drained_rollback()
            else:
                plan = await drive.route.plan_weight(drive.policy.stages[-1])
        except ActionError as exc:
            app.notify(str(exc), severity="error", timeout=12)
            return
        production = self.mitigations.production
        confirm = ConfirmAction(plan, where=drive.route.place, production=production)
        if plan.noop or not await app.push_screen_wait(confirm):
            if not plan.noop:
                self.mitigations.record_cancel(plan, None)
            app.notify(f"{plan.title}: cancelled, nothing changed.")
            return
        if drive.state.phase in DECIDED:
            app.notify(f"The drive is already {drive.state.phase}: nothing more to do.")
            return
        try:
            if what == "abort":
                drive.abort(f"aborted by {app.actor}")
            else:
                drive.promote_now(app.actor)
        except OSError as exc:
            app.notify(
                f"The request is taken but not recorded ({exc.strerror or exc}).",
                severity="warning",
                timeout=12,
            )
