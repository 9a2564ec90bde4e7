"""`m`: the mitigations, each read, planned, confirmed and carried out against the cluster."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

from tui.actions.execute import Outcome, carry_out
from tui.actions.kube import MODEL_FREE, SUPPORTED, ActionError
from tui.actions.lock import ActionLock
from tui.clock import utc
from tui.domain.format import model_label
from tui.domain.model import AGGREGATE
from tui.domain.plan import Plan
from tui.sources.base import CanarySource
from widgets.screens.confirm_action import ConfirmAction
from widgets.screens.mitigation_menu import MitigationMenu
from widgets.screens.runbook_screen import RunbookScreen

if TYPE_CHECKING:
    from tui.actions.kube import Mitigator
    from tui.cockpit.host import Cockpit
    from tui.cockpit.panes import Panes
    from tui.cockpit.timeline_writes import TimelineWriter
    from tui.config import Config


def cluster_label(mitigator: Mitigator | None) -> str | None:
    """The top line's word on where mitigations act; None when they cannot."""
    if mitigator is None:
        return None
    m = mitigator
    # Compact for the top line: context/namespace.
    mode = " read-only" if m.settings.read_only else ""
    return f"{m.cluster}/{m.settings.namespace}{mode}"


def is_production(config: Config, context: str | None, mitigator: Mitigator | None) -> bool:
    """Mitigations act on production: so marked in the config, else a context says "prod"."""
    marked = config.mitigations.production
    if marked is not None:
        return marked
    names = (context, mitigator.context if mitigator else None)
    return any("prod" in (n or "").lower() for n in names)


class Mitigations:
    """What the engineer may change, and the changing of it, each step in the timeline."""

    def __init__(self, app: Cockpit, writer: TimelineWriter, panes: Panes) -> None:
        self.app = app
        self.writer = writer
        self.panes = panes
        self.blocked: dict[str, str | None] = dict.fromkeys(
            SUPPORTED, "Permissions not checked yet."
        )
        """Per mitigation, why it may not run now (RBAC, read-only), or None."""

    def check_permissions(self) -> None:
        self.app.run_worker(self._check_permissions, exclusive=True, group="rbac")

    async def _check_permissions(self) -> None:
        """RBAC at start-up: a mitigation the user may not take is shown disabled, with why."""
        assert self.app.mitigator is not None
        self.blocked = await self.app.mitigator.permissions()

    def open(self, ids: Sequence[str] | None = None, model: str | None = None) -> None:
        """The mitigation menu: every one warroom carries out, or ``ids`` (a runbook leaf's)."""
        app = self.app
        if app.config.kiosk:
            app.notify("This is a kiosk screen: mitigations are taken from an operator's warroom.")
            return
        wanted = [i for i in (ids or SUPPORTED) if i in SUPPORTED]
        if not wanted:
            app.notify("These are steps to take by hand; warroom carries none of them out.")
            return
        if app.mitigator is None:
            # One sentence, once, rather than the same reason on every line of the menu.
            why = app.mitigations_note or "No Kubernetes API is configured for mitigations."
            app.notify(why, severity="warning", timeout=10)
            return
        if model is None:
            model = app.walk_model if isinstance(app.screen, RunbookScreen) else app.selected
        blocked = {i: self._why_not(i, model) for i in wanted}
        title = f"Mitigate · {model_label(model)} · {app.mitigator.place}"
        step = app.mitigator.settings.scale_step
        menu = MitigationMenu(wanted, blocked, title=title, model=model, scale_step=step)
        app.push_screen(
            menu,
            lambda chosen: self.prepare(chosen, model) if chosen else None,
        )
        if menu.scales:
            app.run_worker(
                partial(self._read_replicas, menu, model), exclusive=True, group="menu-replicas"
            )

    async def _read_replicas(self, menu: MitigationMenu, model: str) -> None:
        """The model's replicas, read once the menu is up: its scale lines then say the
        numbers ("from 4 to 6 replicas") and what a scale to zero means."""
        assert self.app.mitigator is not None
        current = self.app.tracker.current
        pods = current.model_pods.get(model, ()) if current is not None else ()
        known = [m.model for m in current.models] if current is not None else []
        try:
            replicas = await self.app.mitigator.replicas(model, pods, known_models=known)
        except ActionError as exc:
            menu.show_replicas(None, str(exc))
            return
        menu.show_replicas(replicas)

    def _why_not(self, mitigation: str, model: str) -> str | None:
        if model == AGGREGATE and mitigation not in MODEL_FREE:
            return "Select a model in the table first: this changes one model's servers."
        return self.blocked.get(mitigation)

    @property
    def production(self) -> bool:
        return is_production(self.app.config, self.app.context, self.app.mitigator)

    def prepare(self, mitigation: str, model: str) -> None:
        self.app.run_worker(
            partial(self._prepare, mitigation, model), exclusive=True, group="mitigation"
        )

    async def _prepare(self, mitigation: str, model: str) -> None:
        """Read, plan, confirm, carry out; on a conflict, read again and ask again."""
        app = self.app
        assert app.mitigator is not None
        target = None if model == AGGREGATE else model
        # The model's pods, as the latest refresh read them: their owners name its
        # Deployment (the model's own name need not).
        current = app.tracker.current
        pods = current.model_pods.get(model, ()) if current is not None else ()
        for _ in range(3):
            try:
                plan = await app.mitigator.plan(
                    mitigation,
                    target,
                    pods,
                    known_models=[m.model for m in current.models] if current else (),
                )
            except ActionError as exc:
                app.notify(str(exc), severity="error", timeout=12)
                return
            if not plan.noop:
                confirm = ConfirmAction(plan, where=app.mitigator.place, production=self.production)
                if not await app.push_screen_wait(confirm):
                    self.record_cancel(plan, target)
                    app.notify(f"{plan.title}: cancelled, nothing changed.")
                    return
            outcome = await self._carry_out(plan, target)
            self.panes.timeline_moved()  # marked at once, not at the next refresh
            if outcome is None:
                return
            if outcome.result != "conflict":
                severity = "error" if outcome.result in ("failed", "locked") else "information"
                app.notify(outcome.message, severity=severity, timeout=12)
                return
            app.notify(outcome.message, severity="warning", timeout=12)
        app.notify("The object keeps changing under warroom; try again later.", severity="error")

    async def _carry_out(self, plan: Plan, model: str | None) -> Outcome | None:
        app = self.app
        assert app.mitigator is not None
        try:
            source = app.source
            in_flight = source.canary_in_flight if isinstance(source, CanarySource) else None
            return await carry_out(
                app.mitigator, plan, app.timeline, clock=app.clock, actor=app.actor,
                model=model, lock=ActionLock(app.mitigator, clock=app.clock),
                in_flight=in_flight,
            )  # fmt: skip
        except OSError as exc:
            self.writer.failed(exc, f"{plan.title} was not sent, since it could not be recorded")
            return None

    def record_cancel(self, plan: Plan, model: str | None) -> None:
        at = utc(self.app.clock.now())
        fields = {"actor": self.app.actor, "model": model, **plan.as_json()}
        self.writer.write(lambda t: t.append("action.cancelled", at, **fields))
