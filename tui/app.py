"""The cockpit: a Textual app that refreshes one collector and hands snapshots to the panes.

The app composes (the panes' screen, `widgets.screens.cockpit`, and each feature of
`tui.cockpit` built from its arguments), runs the collection loop (`tui.cockpit.refresh`)
on its timers, and routes: each key and screen message goes to the feature that owns it.
"""

from __future__ import annotations

import getpass
import socket
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import App, SystemCommand
from textual.await_complete import AwaitComplete
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.theme import ThemeProvider

from tui.actions.canary import CanaryDriver
from tui.actions.kube import Mitigator
from tui.cockpit.canary import CanaryControl
from tui.cockpit.export import ReportExport
from tui.cockpit.mitigations import Mitigations, cluster_label, is_production
from tui.cockpit.navigator import Navigator
from tui.cockpit.palette import palette_commands
from tui.cockpit.panes import Panes
from tui.cockpit.quit import QuitQuestion
from tui.cockpit.recording import RecordingKeeper
from tui.cockpit.refresh import RefreshLoop
from tui.cockpit.replay import ReplayKeys
from tui.cockpit.timeline_writes import TimelineWriter
from tui.config import Config
from tui.domain.cause import SuspectedCause
from tui.domain.format import printable
from tui.domain.triage import Walk
from tui.refresh.collect import Collector
from tui.refresh.tracker import HealthTracker
from tui.sources.base import HealthSource
from tui.sources.replay import ReplayClock
from tui.store.recording import Recorder
from tui.store.timeline import Timeline
from widgets import ansi_colours
from widgets.ascii import AsciiOnly, ascii_key
from widgets.command_palette import SteadyCommandPalette
from widgets.filter_bar import FilterBar
from widgets.health_table import HealthTable
from widgets.keymap import bindings, textual_keymap
from widgets.screens.canary_screen import CanaryScreen
from widgets.screens.cockpit import CockpitScreen
from widgets.screens.mitigation_menu import MitigationCommands
from widgets.screens.runbook_screen import RunbookScreen

if TYPE_CHECKING:
    # The report and the help are imported when first asked for: markdown, the report's
    # writers and its redaction rules were a tenth of start-up's imports.
    from tui.domain.report import Overrides, Report
    from tui.domain.runbook import Runbooks

COCKPIT_MODE = "cockpit"
"""The mode whose screen holds the panes (`CockpitScreen`), under every other screen."""


class WarroomApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "warroom"
    COMMANDS = App.COMMANDS | {MitigationCommands}
    DEFAULT_MODE = COCKPIT_MODE

    # The app's keys (widgets.keymap): q asks first while an incident is going on, ctrl+q
    # quits at once; the replay's act in a replay only (`check_action`).
    BINDINGS: ClassVar[list[BindingType]] = bindings("cockpit", "replay")

    def __init__(
        self,
        collector: Collector,
        config: Config,
        *,
        context: str | None = None,
        live: bool = True,
        timeline: Timeline | None = None,
        runbooks: Runbooks | None = None,
        mitigator: Mitigator | None = None,
        mitigations_note: str | None = None,
        actor: str | None = None,
        canary: CanaryDriver | None = None,
        recorder: Recorder | None = None,
        replay: ReplayClock | None = None,
        report_timeline: Timeline | None = None,
    ) -> None:
        super().__init__()
        self.set_keymap(textual_keymap(config.keys))  # the config's [keys] rebindings
        self.ansi_theme_light = ansi_colours.LIGHT
        self.theme = config.display.textual_theme
        if config.display.ascii:
            self._filters.append(AsciiOnly())
        self.set_class(config.display.wall, "-wall")
        if config.kiosk or mitigator is None:
            # Nothing on a kiosk screen may change anything, the palette's entries included;
            # with no cluster to act on, no "Mitigate: …" entry is offered either.
            self.COMMANDS = App.COMMANDS  # type: ignore[misc]
        if config.kiosk:
            # Nor write anything: a visitor's walk of the runbook is no step of the
            # incident, and the operator's own cockpit records its GPU events and its
            # snapshots. The kiosk reads the timeline (its XIDs, the report's view) only.
            report_timeline = report_timeline or timeline
            timeline, recorder = None, None
        self.recorder = recorder
        """Keeps the incident's snapshots on disk for `warroom replay`."""
        self.replay = replay
        """Set when this cockpit plays a recording back: pause and seek act on it."""
        self.report_timeline = report_timeline or timeline
        """The timeline the report reads: a replay reads its incident's, writing nothing."""
        self.mitigator = mitigator
        self.drive = canary
        """The canary drive this cockpit runs (the demo's canary scenarios); without
        one, the canary screen watches whatever drives the route."""
        self.mitigations_note = mitigations_note
        """Why there is no mitigator (one sentence), when there is none."""
        self.actor = actor or f"{getpass.getuser()}@{socket.gethostname()}"
        self.collector = collector
        self.config = config
        self.clock = collector.clock
        self.context = context
        self.live = live
        self.timeline = timeline
        self.tracker = HealthTracker(config.history_s, config.slo)
        # Its XIDs, read again after a restart (a kiosk's from the timeline it reads).
        self.tracker.events.resume(self.report_timeline if config.kiosk else timeline)
        self.cockpit = CockpitScreen(
            source=self.source.description,
            context=context,
            cluster=cluster_label(mitigator),
            production=is_production(config, context, mitigator),
            # A demo's clock runs --speed times the wall's (replay says its own speed).
            speed=1.0 if replay is not None else getattr(self.clock, "speed", 1.0),
            slo=config.slo,
            history_s=config.history_s,
            wall=config.display.wall,
            id="_default",
        )
        """The panes, under every other screen."""
        # The panes' screen is a mode's rather than the default screen: Textual composes
        # a mode's first screen before `on_mount`, which paints on it.
        self.add_mode(COCKPIT_MODE, lambda: self.cockpit)
        # Each feature's keys, screens and timeline entries (`tui.cockpit`).
        self.timeline_writer = TimelineWriter(self)
        self.navigator = Navigator(self, self.timeline_writer, runbooks)
        self.panes = Panes(self, self.cockpit, self.navigator)
        self.mitigations = Mitigations(self, self.timeline_writer, self.panes)
        self.canary = CanaryControl(self, self.timeline_writer, self.mitigations)
        self.export = ReportExport(self, self.timeline_writer)
        self.quitting = QuitQuestion(self)
        self.replay_keys = ReplayKeys(self, self.panes)
        self.recording = RecordingKeeper(self)
        self.refresher = RefreshLoop(self, collector, self.cockpit, self.panes, self.navigator,
                                     self.timeline_writer, self.recording)  # fmt: skip

    @property
    def source(self) -> HealthSource:
        return self.collector.source

    @property
    def selected(self) -> str:
        """The model under the table's cursor: the plots and the cause line follow it."""
        return self.cockpit.selected

    @property
    def name_filter(self) -> str:
        """`/`: the text a model's name must hold to be in the table ("" shows all)."""
        return self.cockpit.name_filter

    @property
    def causes(self) -> Mapping[str, SuspectedCause]:
        """What GPU evidence says is behind each model's 5xx, as last painted."""
        return self.panes.causes

    @property
    def incident_since(self) -> float | None:
        """When the incident began, for the top line's clock."""
        return self.panes.incident_since

    def pop_screen(self) -> AwaitComplete:
        """Every way a screen closes (dismissed, escape, the palette) comes here: the
        feature that opened it lets go of it."""
        closing = self.screen
        done = super().pop_screen()
        for feature in (self.navigator, self.canary, self.quitting):
            feature.closed(closing)
        return done

    def action_command_palette(self) -> None:
        """Textual's palette with guards against bursts of keys (a laggy SSH link)."""
        if self.use_command_palette and not SteadyCommandPalette.is_open(self):
            self.push_screen(SteadyCommandPalette(id="--command-palette"))

    def search_themes(self) -> None:
        """The palette's Theme entry: its list of themes has the palette's guards too."""
        self.push_screen(SteadyCommandPalette(providers=[ThemeProvider],
                                              placeholder="Search for themes…"))  # fmt: skip

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:  # fmt: skip
        """Literal unless asked: toasts carry outside words (an API server's reason, a
        Gatekeeper rule in brackets, a path, a YAML error) that markup would lose, or
        end the cockpit on, as ``[/spec/replicas]`` does."""
        # Outside words are also made inert: no control byte of theirs reaches the terminal.
        message = "\n".join(printable(part) for part in message.split("\n"))
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def on_mount(self) -> None:
        self.panes.incident_from_timeline()
        # Read once already (its XIDs): lines it had to skip are said once, here.
        damage = self.report_timeline.damage_note() if self.report_timeline else None
        if damage:
            self.notify(damage, severity="warning", timeout=20)
        if self.mitigator is not None:
            self.mitigations.check_permissions()
        self.panes.paint_status()
        self.load_history()
        self.refresh_data()
        self.canary.start()
        if self.live:
            self.set_interval(self.config.refresh_s, self.refresh_data)
            self.set_interval(1.0, self._tick)

    # -- the collection loop (`tui.cockpit.refresh`)

    def load_history(self) -> None:
        self.refresher.load_history()

    def refresh_data(self) -> bool:
        """Start a refresh unless one is in flight; False when one is."""
        return self.refresher.start()

    def refresh_late_s(self) -> float | None:
        return self.refresher.late_s()

    @property
    def last_error(self) -> str | None:
        """Why the latest refresh failed, until one succeeds."""
        return self.refresher.last_error

    @property
    def evidence_note(self) -> str | None:
        return self.refresher.evidence_note

    @property
    def history_note(self) -> str | None:
        return self.refresher.history_note

    def _tick(self) -> None:
        """Once a second: the ages on the top line and the canary's hold timer."""
        self.panes.paint_status()
        self.canary.paint()
        self.panes.timeline_moved()  # the canary drive's steps, another warroom's actions

    def on_resize(self) -> None:
        self.cockpit.lay_out()

    def on_health_table_model_selected(self, event: HealthTable.ModelSelected) -> None:
        self.panes.select(event.model)

    def on_health_table_sort_changed(self, _: HealthTable.SortChanged) -> None:
        self.panes.paint_status()

    def action_toggle_gpus(self) -> None:
        self.cockpit.toggle_gpus()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        return palette_commands(
            self, screen, super().get_system_commands(screen), kiosk=self.config.kiosk,
            can_mitigate=self.mitigator is not None, toggle_gpus=self.action_toggle_gpus,
        )  # fmt: skip

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action.startswith("replay_") and self.replay is None:
            return False
        if action in ("filter_names", "clear_filter"):
            # The panes' own: not under a screen over them, nor while the field has the
            # keys (it takes `/` as text); escape only to clear a filter.
            if not isinstance(self.screen, CockpitScreen) or self.cockpit.filter_editing:
                return False
            return action == "filter_names" or bool(self.name_filter)
        if action in ("mitigate", "export") and self.config.kiosk:
            # A wall screen shows; it never acts, nor overwrites the incident's report.
            return False
        if action == "mitigate" and self.mitigator is None:
            # No cluster to act on (the plain demo, no kubeconfig): the key is shown dim,
            # not offered; `?` says how to give it one (`mitigations_note`).
            return None
        # The grid toggle acts on the panes: hidden and off while the navigator is up.
        return not (action == "toggle_gpus" and isinstance(self.screen, RunbookScreen))

    # -- the runbook walk

    @property
    def runbooks(self) -> Runbooks:
        return self.navigator.runbooks

    @property
    def walk(self) -> Walk | None:
        return self.navigator.walk

    @property
    def walk_model(self) -> str:
        return self.navigator.walk_model

    def action_runbook(self) -> None:
        self.navigator.open()

    def on_runbook_screen_opened(self, event: RunbookScreen.Opened) -> None:
        self.navigator.on_opened(event)

    def on_runbook_screen_moved(self, event: RunbookScreen.Moved) -> None:
        self.navigator.on_moved(event)

    def on_runbook_screen_retraced(self, event: RunbookScreen.Retraced) -> None:
        self.navigator.on_retraced(event)

    # -- mitigations

    def action_mitigate(self, ids: Sequence[str] | None = None, model: str | None = None) -> None:
        self.mitigations.open(ids, model)

    def on_runbook_screen_mitigate(self, event: RunbookScreen.Mitigate) -> None:
        self.mitigations.open(event.actions, self.walk_model)

    # -- the canary

    def action_canary(self) -> None:
        self.canary.open()

    def on_canary_screen_pause(self, _: CanaryScreen.Pause) -> None:
        self.canary.pause()

    def on_canary_screen_promote(self, _: CanaryScreen.Promote) -> None:
        self.canary.promote()

    def on_canary_screen_abort(self, _: CanaryScreen.Abort) -> None:
        self.canary.abort()

    # -- the incident report

    @property
    def reports_dir(self) -> Path:
        return self.export.reports_dir

    def incident_report(self, overrides: Overrides | None = None) -> Report | None:
        return self.export.report(overrides)

    def action_export(self) -> None:
        self.export.open()

    # -- replay, quitting, the name filter

    def action_replay_pause(self) -> None:
        self.replay_keys.pause()

    def action_replay_seek(self, seconds: float) -> None:
        self.replay_keys.seek(seconds)

    def action_request_quit(self) -> None:
        self.quitting.ask()

    def action_filter_names(self) -> None:
        self.cockpit.open_filter()

    def action_clear_filter(self) -> None:
        self.cockpit.clear_filter()

    def on_filter_bar_changed(self, event: FilterBar.Changed) -> None:
        self.panes.filter_by(event.value)

    def get_key_display(self, binding: Binding) -> str:
        """Keys as Textual shows them; with ``--ascii`` by name (``enter``, ``bksp``) at
        their own width, since the screen's filter can only swap ``⏎`` for one cell."""
        shown = super().get_key_display(binding)
        return ascii_key(shown) if self.config.display.ascii else shown

    def action_help(self) -> None:
        from widgets.screens.help_screen import HelpScreen

        off = None
        if self.mitigator is None and not self.config.kiosk:
            off = self.mitigations_note or "No Kubernetes API is configured for mitigations."
        self.push_screen(HelpScreen(off, ascii=self.config.display.ascii))

    def action_refresh_now(self) -> None:
        if not self.refresh_data():
            self.notify("A refresh is already in flight: the data comes when it lands.")

    async def on_unmount(self) -> None:
        await self.collector.aclose()
