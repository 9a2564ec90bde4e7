"""`t`: the runbook walk, from opening the navigator to each step written to the timeline."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen

from tui.clock import utc
from tui.domain.model import AGGREGATE
from tui.domain.triage import Symptom, Walk, leaf_json
from widgets.screens.runbook_screen import RunbookScreen

if TYPE_CHECKING:
    from tui.cockpit.host import Cockpit
    from tui.cockpit.timeline_writes import TimelineWriter
    from tui.domain.assessed import Assessed
    from tui.domain.runbook import Runbooks
    from tui.domain.signals import Facts


class Navigator:
    """The walk in progress and the navigators showing it."""

    def __init__(self, app: Cockpit, writer: TimelineWriter, runbooks: Runbooks | None) -> None:
        self.app = app
        self.writer = writer
        self._runbooks = runbooks
        self.runbooks_checked = False
        self.walk: Walk | None = None
        """The navigator's place, kept while it is closed so `t` resumes the walk."""
        self.walk_model = AGGREGATE
        self.screens: list[RunbookScreen] = []
        """The navigators open now (one, unless the palette opened another over it)."""

    @property
    def runbooks(self) -> Runbooks:
        """The runbooks, read on first use: after the first refresh (`check_runbooks`)
        unless `t` comes sooner. Reading them (YAML, validation) was a twentieth of the
        time to the first data on screen."""
        if self._runbooks is None:
            from tui.store.runbook_files import configured_runbooks

            self._runbooks = configured_runbooks(self.app.config.runbook_dirs)
        return self._runbooks

    def check_runbooks(self) -> None:
        if self.runbooks_checked:
            return
        self.runbooks_checked = True
        for err in self.runbooks.errors:
            self.app.notify(f"Runbook skipped: {err}", severity="error", timeout=15)

    def open(self) -> None:
        """Open the navigator: on the walk in progress, else on the tree for the worst
        symptom, else on the picker for the selected model."""
        app = self.app
        assessed = app.tracker.assessed
        if assessed is None:
            app.notify("No data yet: the runbook opens once the first refresh lands.")
            return
        symptom = assessed.symptom
        pick = False
        if self.walk is not None:
            model = self.walk_model
        elif symptom is not None and (book := self.runbooks.for_symptom(symptom.kind)):
            model = symptom.model
            self.walk = Walk(self.runbooks, book)
            self.walk_model = model
            self._opened(self.walk, model, "worst symptom", symptom)
        else:
            model = app.selected
            book = self.runbooks.books.get("troubleshooting") or next(
                iter(self.runbooks.books.values()), None
            )
            if book is None:
                app.notify("No runbook loaded.", severity="error")
                return
            self.walk = Walk(self.runbooks, book)
            self.walk_model = model
            self._opened(self.walk, model, "no symptom at or past a warning line", None)
            pick = True
        screen = RunbookScreen(
            self.walk,
            self.facts(model),
            symptom=symptom.headline if symptom else None,
            window=app.config.window,
            age_s=self.stale_age(),
        )
        self.screens.append(screen)
        app.push_screen(screen)
        if pick:
            # Nothing breaches: offer every tree rather than guess which one. Pushed now,
            # not after the navigator's first frame: a key typed behind `t` then meets
            # the picker on every machine, not the picker or the navigator by a race.
            screen.action_pick()

    def closed(self, screen: Screen[object]) -> None:
        if screen in self.screens:
            self.screens.remove(screen)

    def update(self, assessed: Assessed) -> None:
        """A refresh landed: the open navigators' evidence follows it."""
        navigators = self.screens
        if navigators:
            # Also under the picker: the card must be current when the picker closes.
            headline = assessed.symptom.headline if assessed.symptom else None
            for screen in navigators:
                screen.update_facts(self.facts(screen.model), self.stale_age(), headline)

    def facts(self, model: str) -> Facts | None:
        assessed = self.app.tracker.assessed
        return assessed.facts(model) if assessed is not None else None

    def stale_age(self) -> float | None:
        """How old the data on screen is when it is stale; None when it is fresh."""
        snap = self.app.tracker.current
        if snap is None or snap.stale_since is None:
            return None
        return self.app.clock.now() - snap.stale_since.timestamp()

    def _opened(self, walk: Walk, model: str, why: str, symptom: Symptom | None) -> None:
        self.writer.write(
            lambda t: t.append(
                "runbook.opened",
                utc(self.app.clock.now()),
                runbook=walk.first.id,
                title=walk.first.title,
                model=model,
                why=why,
                symptom=symptom.as_json() if symptom else None,
            )
        )

    def on_opened(self, event: RunbookScreen.Opened) -> None:
        self.walk = event.walk
        self._opened(event.walk, event.model, event.why, None)

    def on_moved(self, event: RunbookScreen.Moved) -> None:
        walk, taken = event.walk, event.taken
        at = utc(self.app.clock.now())
        kind = "runbook.answer" if taken.kind == "question" else "runbook.step"
        step = _step_fields(taken.as_json())
        self.writer.write(lambda t: t.append(kind, at, model=self.walk_model, **step))
        if walk.at_leaf:
            leaf = _step_fields({"runbook": walk.runbook.id, **leaf_json(walk.here)})
            self.writer.write(
                lambda t: t.append("runbook.reached", at, model=self.walk_model, **leaf)
            )

    def on_retraced(self, event: RunbookScreen.Retraced) -> None:
        # The answer stays in the timeline; this entry says it no longer stands.
        undone = _step_fields(event.undone.as_json())
        at = utc(self.app.clock.now())
        self.writer.write(lambda t: t.append("runbook.back", at, model=self.walk_model, **undone))


def _step_fields(fields: dict[str, object]) -> dict[str, object]:
    """A step's JSON as timeline fields: its ``kind`` (question, check…) is the entry's
    ``step_kind``, since ``kind`` names the entry itself (``runbook.answer``)."""
    return {("step_kind" if k == "kind" else k): v for k, v in fields.items()}
