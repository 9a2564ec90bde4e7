"""The cockpit: a Textual app that refreshes one collector and hands snapshots to widgets.

The collection loop lives here, apart from the panes: a worker reads the health source
(and NVML) off the event loop, another reads pod evidence at its own slower pace,
`HealthTracker` decides what to show (keeping the last good data when a refresh fails),
and each widget is given exactly what it renders.
"""

from __future__ import annotations

import asyncio
import gc
import getpass
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.reactive import Reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget

from tui.actions.canary import DECIDED, END_PHASES, CanaryDriver, DriveState
from tui.actions.execute import Outcome, carry_out
from tui.actions.kube import MODEL_FREE, SUPPORTED, ActionError, Mitigator
from tui.actions.lock import ActionLock
from tui.clock import utc
from tui.config import Config
from tui.domain.annotations import TimelineAnnotations
from tui.domain.canary import CanaryPolicy
from tui.domain.canary_watch import CanaryWatch
from tui.domain.cause import SuspectedCause, suspect
from tui.domain.format import model_label, printable
from tui.domain.gpu_share import gpu_util_by_model
from tui.domain.model import AGGREGATE, GpuEvent, Snapshot
from tui.domain.name_filter import narrowed
from tui.domain.plan import Plan
from tui.domain.severity import Verdicts, judge
from tui.domain.signals import Facts
from tui.domain.triage import Symptom, Walk, leaf_json, worst_symptom
from tui.durations import human_age
from tui.errors import SourceError, WarroomError
from tui.refresh.collect import Collector
from tui.refresh.tracker import HealthTracker
from tui.sources.base import CanarySource, HealthSource
from tui.sources.replay import ReplayClock
from tui.store.recording import Recorder
from tui.store.timeline import CLOSED, OPENED, Timeline, default_state_dir
from widgets import ansi_colours
from widgets.ascii import AsciiOnly, ascii_key
from widgets.cause_line import CauseLine
from widgets.command_palette import SteadyCommandPalette, key_commands
from widgets.filter_bar import FilterBar
from widgets.gpu_detail import GpuDetail
from widgets.gpu_grid import GpuGrid
from widgets.health_table import HealthTable
from widgets.history_plots import HistoryPlots
from widgets.in_force_line import InForceLine
from widgets.key_hints import PANE_KEYS, KeyHints
from widgets.key_rejections import KeyRejectionsLine
from widgets.rows_out_of_view import RowsOutOfView
from widgets.screens.canary_screen import CanaryScreen
from widgets.screens.confirm_action import ConfirmAction
from widgets.screens.mitigation_menu import MitigationCommands, MitigationMenu
from widgets.screens.quit_confirm import QuitConfirm, reasons_to_ask
from widgets.screens.runbook_screen import RunbookScreen
from widgets.status_bar import StatusBar

if TYPE_CHECKING:
    # The report and the help are imported when first asked for: markdown, the report's
    # writers and its redaction rules were a tenth of start-up's imports.
    from tui.domain.report import Overrides, Report
    from tui.store.runbook_files import Runbooks
    from widgets.screens.report_form import ExportChoice

DETAIL_MIN_ROWS = 13
"""Plots (10), the 429-by-key line and the border above them."""
SIDE_BY_SIDE_FROM = 160
"""Terminal width from which the plots and the GPU grid share the lower half; narrower
terminals show one of them at a time (`g` switches)."""
KEYS_KEPT_FIRST = (
    *("mitigate", "export", "canary", "runbook", "request_quit", "help"),
    *(PANE_KEYS, "replay_seek", "filter_names", "toggle_gpus", "refresh_now", "clear_filter"),
)
"""The key line's keys, the one kept longest first: a narrow terminal (80 columns) drops
the last ones, never what acts on the incident."""


class CockpitScreen(Screen[None]):
    """The cockpit's screen. Textual's repaints the whole screen when focus moves; the
    panes whose look follows focus (the table's cursor bar, the grid's cursor) repaint
    themselves, so `g` no longer redraws and resends the plots, the status line and
    every other line of a large terminal."""

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)


class WarroomApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "warroom"
    COMMANDS = App.COMMANDS | {MitigationCommands}

    BINDINGS: ClassVar[list[BindingType]] = [
        # ctrl+q (Textual's) quits at once; q asks first while an incident is going on.
        Binding("q", "request_quit", "Quit", tooltip="quit (asks first during an incident)"),
        Binding("question_mark", "help", "Help", key_display="?", tooltip="every key"),
        Binding("r", "refresh_now", "Refresh", tooltip="read the sources now"),
        Binding("g", "toggle_gpus", "GPUs", tooltip="to the GPU grid and back"),
        Binding("t", "runbook", "Runbook", tooltip="the runbook for the worst symptom"),
        Binding("m", "mitigate", "Mitigate", tooltip="the mitigations, each confirmed"),
        Binding("c", "canary", "Canary", tooltip="the canary rollout"),
        Binding("e", "export", "Report", tooltip="export the incident report"),
        Binding("slash", "filter_names", "Filter", key_display="/", tooltip="by model name"),
        Binding("escape", "clear_filter", "Clear filter", key_display="esc", tooltip="all models"),
        Binding("space", "replay_pause", "Pause", show=False),
        Binding("left_square_bracket", "replay_seek(-60)", "−1m", key_display="["),
        Binding("right_square_bracket", "replay_seek(60)", "+1m", key_display="]"),
        Binding("left_curly_bracket", "replay_seek(-600)", "−10m", show=False),
        Binding("right_curly_bracket", "replay_seek(600)", "+10m", show=False),
    ]

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
        self.canary_policy: CanaryPolicy = (
            canary.policy if canary is not None
            else config.canary.policy(config.mitigations.drain_timeout_s)
        )  # fmt: skip
        self.canary_watch: CanaryWatch | None = None
        self._watch_timer: Timer | None = None
        self._canary_phase: str | None = None
        self.mitigations_note = mitigations_note
        """Why there is no mitigator (one sentence), when there is none."""
        self.actor = actor or f"{getpass.getuser()}@{socket.gethostname()}"
        self.blocked: dict[str, str | None] = dict.fromkeys(
            SUPPORTED, "Permissions not checked yet."
        )
        """Per mitigation, why it may not run now (RBAC, read-only), or None."""
        self._runbooks = runbooks
        self._runbooks_checked = False
        self.walk: Walk | None = None
        """The navigator's place, kept while it is closed so `t` resumes the walk."""
        self.walk_model = AGGREGATE
        self.collector = collector
        self.config = config
        self.clock = collector.clock
        self.context = context
        self.live = live
        self.timeline = timeline
        self.annotations = TimelineAnnotations()
        """The plots' marks and what is in force, followed from the timeline."""
        self.tracker = HealthTracker(config.history_s)
        # Its XIDs, read again after a restart (a kiosk's from the timeline it reads).
        self.tracker.events.resume(self.report_timeline if config.kiosk else timeline)
        self.selected = AGGREGATE
        self.last_error: str | None = None
        self._verdicts: tuple[Snapshot, Verdicts] | None = None
        """The latest snapshot and its verdicts, judged once when it arrives (`verdicts`)."""
        self.evidence_note: str | None = collector.pods_note
        self.history_note: str | None = None
        """Why the history behind the plots was not loaded, when it was not."""
        self.causes: dict[str, SuspectedCause] = {}
        self.show_gpus = False
        """On a narrow terminal: the GPU grid is shown in place of the plots."""
        self.name_filter = ""
        """`/`: the text a model's name must hold to be in the table ("" shows all)."""
        self._refreshing = False
        """A refresh is running (until its recording is written): the next waits for it."""
        self._refresh_started: float | None = None
        self.incident_since: float | None = None
        """When the incident began (`incident_span`'s start), for the top line's clock."""
        """When the refresh in flight started, until its data (or failure) is in."""

    @property
    def source(self) -> HealthSource:
        return self.collector.source

    def get_default_screen(self) -> Screen[None]:
        return CockpitScreen(id="_default")

    def compose(self) -> ComposeResult:
        yield StatusBar(
            self.source.description,
            self.context,
            cluster=self._cluster_label(),
            production=self.production,
            # A demo's clock runs --speed times the wall's (replay says its own speed).
            speed=1.0 if self.replay is not None else getattr(self.clock, "speed", 1.0),
            id="status",
        )
        yield HealthTable(self.config.slo, wall=self.config.display.wall, id="health")
        yield RowsOutOfView(id="rows-out-of-view")
        yield CauseLine(id="cause")
        with Horizontal(id="detail"):
            with Vertical(id="plots-pane"):
                yield HistoryPlots(id="history")
                yield InForceLine(id="in-force")
                yield KeyRejectionsLine(id="keys")
            with Vertical(id="gpu-pane"):
                yield GpuGrid(id="gpus")
                yield GpuDetail(id="gpu-detail")
        yield FilterBar(id="filter")
        yield KeyHints(keep_first=KEYS_KEPT_FIRST)

    def action_command_palette(self) -> None:
        """Textual's palette with guards against bursts of keys (a laggy SSH link)."""
        if self.use_command_palette and not SteadyCommandPalette.is_open(self):
            self.push_screen(SteadyCommandPalette(id="--command-palette"))

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Literal unless asked: toasts carry outside words (an API server's reason, a
        Gatekeeper rule in brackets, a path, a YAML error) that markup would lose, or
        end the cockpit on, as ``[/spec/replicas]`` does."""
        # Outside words are also made inert: no control byte of theirs reaches the terminal.
        message = "\n".join(printable(part) for part in message.split("\n"))
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    @property
    def runbooks(self) -> Runbooks:
        """The runbooks, read on first use: after the first refresh (`_check_runbooks`)
        unless `t` comes sooner. Reading them (YAML, validation) was a twentieth of the
        time to the first data on screen."""
        if self._runbooks is None:
            from tui.store.runbook_files import configured_runbooks

            self._runbooks = configured_runbooks(self.config.runbook_dirs)
        return self._runbooks

    def _check_runbooks(self) -> None:
        if self._runbooks_checked:
            return
        self._runbooks_checked = True
        for err in self.runbooks.errors:
            self.notify(f"Runbook skipped: {err}", severity="error", timeout=15)

    def on_mount(self) -> None:
        table = self.query_one(HealthTable)
        table.focus()
        # The incident's first entry (its opening, on this clock) starts its clock.
        from tui.domain.report import incident_span

        record = self.timeline or self.report_timeline
        try:
            entries = record.entries() if record is not None else []
        except OSError:
            entries = []
        self._incident_began(incident_span((), entries)[0])
        # The rows scrolled out of view are counted when the table scrolls or its rows
        # change; a change of its height comes with a resize (`on_resize`).
        self.watch(table, "scroll_y", self._count_rows_out_of_view, init=False)
        self.watch(table, "virtual_size", self._count_rows_out_of_view, init=False)
        # Read once already (its XIDs): lines it had to skip are said once, here.
        damage = self.report_timeline.damage_note() if self.report_timeline else None
        if damage:
            self.notify(damage, severity="warning", timeout=20)
        if self.mitigator is not None:
            self.check_permissions()
        self.query_one(GpuGrid).set_message("GPUs: waiting for first data…")
        self._paint_status()
        self.load_history()
        self.refresh_data()
        if self.drive is not None:
            self.drive.on_change = self._canary_changed
            self.drive_canary()
            self.action_canary()
        if self.live:
            self.set_interval(self.config.refresh_s, self.refresh_data)
            self.set_interval(1.0, self._tick)

    @work(exclusive=True, group="history")
    async def load_history(self) -> None:
        try:
            points = await self.source.history()
        except SourceError as exc:
            self.history_note = f"History not loaded, so no plots or crossings before now: {exc}"
            self.notify(f"History not loaded: {exc}", severity="warning", timeout=8)
            return
        self.history_note = None
        self.tracker.backfill(points)
        # The incident began at its first crossing, if the history holds one before the
        # timeline's first entry (as the report reckons it).
        from tui.domain.report import crossings, incident_span

        began, _ = incident_span(crossings(points, self.config.slo), ())
        self._incident_began(began)
        if self.tracker.current is not None:
            # Before the first refresh lands the plots wait for it: drawing them twice
            # would only delay the first data on screen.
            self._paint_plots()

    def refresh_data(self) -> bool:
        """Start a refresh unless one is in flight; False when one is.

        A slow source is the normal case during an incident: the refresh in flight is
        never cancelled (it would never land), the next tick starts the next one after
        it ends, and meanwhile the top line says how long it has been out."""
        if self._refreshing:
            return False
        self._refreshing = True
        self._refresh_started = self.clock.now()
        self._refresh()
        return True

    @work(group="refresh")
    async def _refresh(self) -> None:
        try:
            await self._collect_and_paint()
        finally:
            self._refresh_started = None
            self._refreshing = False

    def _refresh_late_s(self) -> float | None:
        """How long the refresh in flight has been out, once past the refresh interval."""
        started = self._refresh_started
        if started is None:
            return None
        out = self.clock.now() - started
        return out if out > self.config.refresh_s else None

    async def _collect_and_paint(self) -> None:
        fresh: Snapshot | None = None
        try:
            fresh = await self.collector.collect()
            snapshot = self.tracker.accept(fresh)
            self.last_error = None
            self._record(self.tracker.new_events)
        except SourceError as exc:
            self.last_error = str(exc)
            snapshot = self.tracker.fail(self.last_error)
        finally:
            # The data is in (or the refresh failed): no longer late, whatever follows.
            self._refresh_started = None
        if not self.query(HealthTable):
            return  # the refresh landed as the cockpit closed: no pane is left to paint
        if snapshot is not None:
            first = self.query_one(HealthTable).row_count == 0
            self._paint(snapshot, first=first)
            if first and self.live:
                # What start-up built (Textual, the runbooks, the widgets) lives as long
                # as the cockpit: out of the collector's sight, a full collection no longer
                # walks it, which was most of the slowest keypresses' time. (Not for the
                # tests' cockpits, live=False: hundreds in one process would never be freed.)
                gc.freeze()
            if self.collector.evidence_due():
                self.read_pod_evidence(snapshot)
        self._paint_status()
        if not self._runbooks_checked:
            # Once the first refresh is on screen, whatever it brought.
            self.call_after_refresh(self._check_runbooks)
        if fresh is not None:
            # Recorded after the paint: the screen does not wait on the recording's write.
            await self._keep(fresh)

    @work(exclusive=True, group="evidence")
    async def read_pod_evidence(self, snapshot: Snapshot) -> None:
        """Pod status and logs behind sick models: slower than a refresh, so apart from it."""
        evidence = await self.collector.pod_evidence(snapshot)
        if evidence is None:
            return
        self.evidence_note = evidence.error
        learned = self.tracker.events.add(evidence.events)
        self._record(learned)
        current = self.tracker.current
        if learned and current is not None:
            # Pod evidence reaches no snapshot by itself: a copy carrying it is recorded,
            # so a replay (and the report remade from it) sees the OOMs too.
            await self._keep(replace(current, events=tuple(learned)))
        if current is not None:
            self._paint(current)

    async def _keep(self, snapshot: Snapshot) -> None:
        """Into the recording, off the event loop (a write is an fsync)."""
        recorder = self.recorder
        if recorder is None or recorder.full:
            return
        try:
            await asyncio.to_thread(recorder.record, snapshot)
        except OSError as exc:
            self.recorder = None
            self.notify(f"Recording stopped: {recorder.path} cannot be written "
                        f"({exc.strerror or exc}).", severity="warning", timeout=10)  # fmt: skip
            return
        if recorder.written == 1 and recorder.damage:
            # Once: the file this incident records into was damaged (a crash, a full disk);
            # recording goes on after the damage.
            self.notify(recorder.damage, severity="warning", timeout=10)
        if recorder.full:
            self.notify(f"Recording full at {recorder.path}: later snapshots are not kept.",
                        severity="warning", timeout=10)  # fmt: skip

    def _record(self, events: list[GpuEvent]) -> None:
        """New GPU events go into the incident timeline as they are learned."""
        if events:
            self._write(lambda t: [t.record_gpu_event(e) for e in events])

    def _write(self, write: Callable[[Timeline], object]) -> None:
        if self.timeline is None:
            return
        try:
            write(self.timeline)
        except OSError as exc:
            self._timeline_failed(exc, "events stay on screen only", timeout=10)

    def _timeline_failed(self, exc: OSError, consequence: str, timeout: float = 15) -> None:
        """One sentence: the timeline could not be written, and what that meant."""
        where = self.timeline.path if self.timeline else "the timeline"
        self.notify(
            f"The incident timeline {where} cannot be written ({exc.strerror or exc}); "
            f"{consequence}.",
            severity="error",
            timeout=timeout,
        )

    def _paint(self, snapshot: Snapshot, *, first: bool = False) -> None:
        events = self.tracker.events.all()
        self.causes = suspect(
            snapshot.models,
            snapshot.gpus,
            events,
            self.config.slo,
            now=snapshot.taken_at,
            within_s=self.config.history_s,
        )
        table = self.query_one(HealthTable)
        # `/`: the table is handed the models the filter keeps (the Σ row stays).
        table.show(
            narrowed(snapshot, self.name_filter), self.causes, self.verdicts(snapshot),
            gpu_util_by_model(snapshot.gpus),
        )  # fmt: skip
        self._paint_filter_count(snapshot)
        if first and table.row_count > 1:
            # Open on the worst model, not the aggregate: its plot is what matters.
            table.move_cursor(row=1, animate=False)
        self.query_one(KeyRejectionsLine).show(snapshot.rate_limited_keys)
        self.query_one(CauseLine).show(self.selected, self.causes, self.evidence_note)
        grid = self.query_one(GpuGrid)
        if snapshot.gpus:
            grid.show(snapshot.gpus, events)
            # The detail pane shows the KV cache of the GPU's model: vLLM pre-allocates the
            # framebuffer, so that, not memory used, says how full the GPU really is.
            self.query_one(GpuDetail).set_models(snapshot.models)
        else:
            grid.set_message(snapshot.gpu_error or "No GPU data.")
        self._follow_timeline()
        self._paint_plots()
        navigators = [s for s in self.screen_stack if isinstance(s, RunbookScreen)]
        if navigators:
            # Also under the picker: the card must be current when the picker closes.
            symptom = worst_symptom(snapshot.models, snapshot.aggregate, self.config.slo)
            headline = symptom.headline if symptom else None
            for screen in navigators:
                screen.update_facts(self._facts(screen.model), self._stale_age(), headline)

    def _tick(self) -> None:
        """Once a second: the ages on the top line and the canary's hold timer."""
        self._paint_status()
        self._paint_canary()
        if self._follow_timeline():  # the canary drive's steps, another warroom's actions
            self._paint_plots()

    def _follow_timeline(self) -> bool:
        """The plots' marks and the in-force line, when the timeline (one stat a call)
        holds something new that moves them; True when they moved."""
        if not self.annotations.update(self.timeline or self.report_timeline, self.clock.now()):
            return False
        self.query_one(InForceLine).show(self.annotations.current.line)
        return True

    def verdicts(self, snapshot: Snapshot) -> Verdicts:
        """``snapshot``'s verdicts, judged once however many panes and ticks read them."""
        if self._verdicts is None or self._verdicts[0] is not snapshot:
            self._verdicts = (snapshot, judge(snapshot, self.config.slo))
        return self._verdicts[1]

    def _breaching(self, snapshot: Snapshot) -> int:
        """How many models breach in ``snapshot`` (the top line redraws every second)."""
        return self.verdicts(snapshot).breaching

    def _paint_status(self) -> None:
        snap = self.tracker.current
        now = self.clock.now()
        if self.replay is not None:
            # Where the playback is, in the recording's own time, and whether it runs.
            mark = " ⏸ paused" if self.replay.paused else f" ▶ {self.replay.speed:g}x"
            self.query_one(StatusBar).context = f"{utc(now):%H:%M:%S}Z{mark}"
        reason = self.last_error
        read_at = self.tracker.gpus_read_at
        if reason is None and snap and snap.gpu_error and snap.gpus and read_at is not None:
            # The panes are fresh but the grid is not: say why, and how old it is.
            age = human_age(now - read_at.timestamp())
            reason = f"{snap.gpu_error.rstrip('.')}; the GPU grid shows data {age} old."
        breaching = self._breaching(snap) if snap else 0
        if breaching and snap is not None:
            self._incident_began(snap.taken_at.timestamp())
        self.query_one(StatusBar).show(
            snap,
            now,
            error=reason,
            breaching=breaching,
            sort=self.query_one(HealthTable).sort_label,
            late_s=self._refresh_late_s(),
            incident_since=self.incident_since,
        )

    def _incident_began(self, at: float | None) -> None:
        """The incident clock starts at the earliest sign of it: the timeline's first
        entry, the first crossing in the history, or the first breach seen live."""
        if at is not None and (self.incident_since is None or at < self.incident_since):
            self.incident_since = at

    def on_resize(self) -> None:
        # The table takes the rows it needs but leaves the lower half at least
        # DETAIL_MIN_ROWS: CSS cannot cap an auto height by a sibling's minimum.
        chrome = 3  # status line, cause line and footer
        # The line counting the rows out of view, and the filter's, when they show.
        chrome += sum(self.query_one(w).display for w in (RowsOutOfView, FilterBar))
        # A tall screen gives the plots and the GPU grid close to half of it; the wall
        # screen, read from across the room, two thirds.
        share = 0.65 if self.config.display.wall else 0.45
        lower = max(DETAIL_MIN_ROWS, int(self.size.height * share))
        self.query_one(HealthTable).styles.max_height = max(6, self.size.height - chrome - lower)
        self._lay_out_detail()
        self.call_after_refresh(self._count_rows_out_of_view)

    def _lay_out_detail(self) -> None:
        wide = self.size.width >= SIDE_BY_SIDE_FROM
        self.query_one("#plots-pane").display = wide or not self.show_gpus
        self.query_one("#gpu-pane").display = wide or self.show_gpus

    def _paint_plots(self) -> None:
        self.query_one(HistoryPlots).show(
            self.selected,
            self.tracker.points(self.selected),
            self.clock.now(),
            self.config.history_s,
            self.config.slo,
            marks=self.annotations.current.marks_for(self.selected),
        )

    def on_health_table_model_selected(self, event: HealthTable.ModelSelected) -> None:
        if not self.query(GpuGrid):
            return  # a refresh's row moved as the cockpit closed: no pane is left to follow
        if event.model != self.selected:
            self.selected = event.model
            self.query_one(GpuGrid).highlight(None if event.model == AGGREGATE else event.model)
            self.query_one(CauseLine).show(self.selected, self.causes, self.evidence_note)
            self._paint_plots()

    def on_health_table_view_resized(self, _: HealthTable.ViewResized) -> None:
        self._count_rows_out_of_view()

    def on_health_table_sort_changed(self, _: HealthTable.SortChanged) -> None:
        self._paint_status()

    def on_gpu_grid_gpu_selected(self, event: GpuGrid.GpuSelected) -> None:
        self.query_one(GpuDetail).show(event.gpu, event.events)

    def action_toggle_gpus(self) -> None:
        """Move to the GPU grid (showing it in place of the plots when narrow) and back."""
        grid = self.query_one(GpuGrid)
        if grid.has_focus:
            self.show_gpus = False
            self.query_one(HealthTable).focus()
        else:
            self.show_gpus = True
            grid.focus()
        self._lay_out_detail()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            # A kiosk saves no screenshot either: in a terminal it is a file on this disk.
            # Textual's Quit quits at once: the palette's is `q`'s, which asks first.
            if not (self.config.kiosk and command.title == "Screenshot") and (
                command.title != "Quit"
            ):
                yield command
        # Every action a key offers, the panes' keys on the panes' screen only.
        panes: list[DOMNode] = []
        if isinstance(screen, CockpitScreen):
            panes = [*screen.query(HealthTable), *screen.query(GpuGrid)]
        elif screen is not self.screen_stack[0]:
            panes = [screen]
        for command in key_commands(self, panes, self._run_from_palette):
            # No cluster to act on: the key says so, the palette offers nothing.
            if not (command.title == "Mitigate" and self.mitigator is None):
                yield command

    async def _run_from_palette(self, node: DOMNode, action: str) -> None:
        """A key's action chosen in the palette: a pane's on that pane, in view."""
        if isinstance(node, GpuGrid) and not node.has_focus:
            self.action_toggle_gpus()
        await self.run_action(action, node)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action.startswith("replay_") and self.replay is None:
            return False
        if action in ("filter_names", "clear_filter"):
            # The panes' own: not under a screen over them, nor while the field has the
            # keys (it takes `/` as text); escape only to clear a filter.
            if not isinstance(self.screen, CockpitScreen) or self.query_one(FilterBar).editing:
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

    def action_runbook(self) -> None:
        """Open the navigator: on the walk in progress, else on the tree for the worst
        symptom, else on the picker for the selected model."""
        snap = self.tracker.current
        if snap is None:
            self.notify("No data yet: the runbook opens once the first refresh lands.")
            return
        symptom = worst_symptom(snap.models, snap.aggregate, self.config.slo)
        pick = False
        if self.walk is not None:
            model = self.walk_model
        elif symptom is not None and (book := self.runbooks.for_symptom(symptom.kind)):
            model = symptom.model
            self.walk = Walk(self.runbooks, book)
            self.walk_model = model
            self._opened(self.walk, model, "worst symptom", symptom)
        else:
            model = self.selected
            book = self.runbooks.books.get("troubleshooting") or next(
                iter(self.runbooks.books.values()), None
            )
            if book is None:
                self.notify("No runbook loaded.", severity="error")
                return
            self.walk = Walk(self.runbooks, book)
            self.walk_model = model
            self._opened(self.walk, model, "no symptom at or past a warning line", None)
            pick = True
        screen = RunbookScreen(
            self.walk,
            self._facts(model),
            symptom=symptom.headline if symptom else None,
            window=self.config.window,
            age_s=self._stale_age(),
        )
        self.push_screen(screen)
        if pick:
            # Nothing breaches: offer every tree rather than guess which one. Pushed now,
            # not after the navigator's first frame: a key typed behind `t` then meets
            # the picker on every machine, not the picker or the navigator by a race.
            screen.action_pick()

    def _facts(self, model: str) -> Facts | None:
        snap = self.tracker.current
        if snap is None:
            return None
        return Facts(snap, self.config.slo, model, self.tracker.events.all(),
                     self.config.history_s)  # fmt: skip

    def _stale_age(self) -> float | None:
        """How old the data on screen is when it is stale; None when it is fresh."""
        snap = self.tracker.current
        if snap is None or snap.stale_since is None:
            return None
        return self.clock.now() - snap.stale_since.timestamp()

    def _opened(self, walk: Walk, model: str, why: str, symptom: Symptom | None) -> None:
        self._write(
            lambda t: t.append(
                "runbook.opened",
                utc(self.clock.now()),
                runbook=walk.first.id,
                title=walk.first.title,
                model=model,
                why=why,
                symptom=symptom.as_json() if symptom else None,
            )
        )

    def on_runbook_screen_opened(self, event: RunbookScreen.Opened) -> None:
        self.walk = event.walk
        self._opened(event.walk, event.model, event.why, None)

    def on_runbook_screen_moved(self, event: RunbookScreen.Moved) -> None:
        walk, taken = event.walk, event.taken
        at = utc(self.clock.now())
        kind = "runbook.answer" if taken.kind == "question" else "runbook.step"
        step = _step_fields(taken.as_json())
        self._write(lambda t: t.append(kind, at, model=self.walk_model, **step))
        if walk.at_leaf:
            leaf = _step_fields({"runbook": walk.runbook.id, **leaf_json(walk.here)})
            self._write(lambda t: t.append("runbook.reached", at, model=self.walk_model, **leaf))

    # -- mitigations

    @work(exclusive=True, group="rbac")
    async def check_permissions(self) -> None:
        """RBAC at start-up: a mitigation the user may not take is shown disabled, with why."""
        assert self.mitigator is not None
        self.blocked = await self.mitigator.permissions()

    def action_mitigate(self, ids: Sequence[str] | None = None, model: str | None = None) -> None:
        """The mitigation menu: every one warroom carries out, or ``ids`` (a runbook leaf's)."""
        if self.config.kiosk:
            self.notify("This is a kiosk screen: mitigations are taken from an operator's warroom.")
            return
        wanted = [i for i in (ids or SUPPORTED) if i in SUPPORTED]
        if not wanted:
            self.notify("These are steps to take by hand; warroom carries none of them out.")
            return
        if self.mitigator is None:
            # One sentence, once, rather than the same reason on every line of the menu.
            why = self.mitigations_note or "No Kubernetes API is configured for mitigations."
            self.notify(why, severity="warning", timeout=10)
            return
        if model is None:
            model = self.walk_model if isinstance(self.screen, RunbookScreen) else self.selected
        blocked = {i: self._why_not(i, model) for i in wanted}
        title = f"Mitigate · {model_label(model)} · {self.mitigator.place}"
        step = self.mitigator.settings.scale_step
        menu = MitigationMenu(wanted, blocked, title=title, model=model, scale_step=step)
        self.push_screen(
            menu,
            lambda chosen: self.prepare_mitigation(chosen, model) if chosen else None,
        )
        if menu.scales:
            self.read_replicas(menu, model)

    @work(exclusive=True, group="menu-replicas")
    async def read_replicas(self, menu: MitigationMenu, model: str) -> None:
        """The model's replicas, read once the menu is up: its scale lines then say the
        numbers ("from 4 to 6 replicas") and what a scale to zero means."""
        assert self.mitigator is not None
        current = self.tracker.current
        pods = current.model_pods.get(model, ()) if current is not None else ()
        known = [m.model for m in current.models] if current is not None else []
        try:
            replicas = await self.mitigator.replicas(model, pods, known_models=known)
        except ActionError as exc:
            menu.show_replicas(None, str(exc))
            return
        menu.show_replicas(replicas)

    def _why_not(self, mitigation: str, model: str) -> str | None:
        if model == AGGREGATE and mitigation not in MODEL_FREE:
            return "Select a model in the table first: this changes one model's servers."
        return self.blocked.get(mitigation)

    def _cluster_label(self) -> str | None:
        """The top line's word on where mitigations act; None when they cannot."""
        if self.mitigator is None:
            return None
        m = self.mitigator
        # Compact for the top line: context/namespace.
        mode = " read-only" if m.settings.read_only else ""
        return f"{m.cluster}/{m.settings.namespace}{mode}"

    @property
    def production(self) -> bool:
        marked = self.config.mitigations.production
        if marked is not None:
            return marked
        names = (self.context, self.mitigator.context if self.mitigator else None)
        return any("prod" in (n or "").lower() for n in names)

    @work(exclusive=True, group="mitigation")
    async def prepare_mitigation(self, mitigation: str, model: str) -> None:
        """Read, plan, confirm, carry out; on a conflict, read again and ask again."""
        assert self.mitigator is not None
        target = None if model == AGGREGATE else model
        # The model's pods, as the latest refresh read them: their owners name its
        # Deployment (the model's own name need not).
        current = self.tracker.current
        pods = current.model_pods.get(model, ()) if current is not None else ()
        for _ in range(3):
            try:
                plan = await self.mitigator.plan(
                    mitigation,
                    target,
                    pods,
                    known_models=[m.model for m in current.models] if current else (),
                )
            except ActionError as exc:
                self.notify(str(exc), severity="error", timeout=12)
                return
            if not plan.noop:
                confirm = ConfirmAction(
                    plan, where=self.mitigator.place, production=self.production
                )
                if not await self.push_screen_wait(confirm):
                    self._record_cancel(plan, target)
                    self.notify(f"{plan.title}: cancelled, nothing changed.")
                    return
            outcome = await self._carry_out(plan, target)
            if self._follow_timeline():  # marked at once, not at the next refresh
                self._paint_plots()
            if outcome is None:
                return
            if outcome.result != "conflict":
                severity = "error" if outcome.result in ("failed", "locked") else "information"
                self.notify(outcome.message, severity=severity, timeout=12)
                return
            self.notify(outcome.message, severity="warning", timeout=12)
        self.notify("The object keeps changing under warroom; try again later.", severity="error")

    async def _carry_out(self, plan: Plan, model: str | None) -> Outcome | None:
        assert self.mitigator is not None
        try:
            source = self.source
            in_flight = source.canary_in_flight if isinstance(source, CanarySource) else None
            return await carry_out(
                self.mitigator, plan, self.timeline, clock=self.clock, actor=self.actor,
                model=model, lock=ActionLock(self.mitigator, clock=self.clock),
                in_flight=in_flight,
            )  # fmt: skip
        except OSError as exc:
            self._timeline_failed(exc, f"{plan.title} was not sent, since it could not be recorded")
            return None

    def _record_cancel(self, plan: Plan, model: str | None) -> None:
        at = utc(self.clock.now())
        fields = {"actor": self.actor, "model": model, **plan.as_json()}
        self._write(lambda t: t.append("action.cancelled", at, **fields))

    def on_runbook_screen_mitigate(self, event: RunbookScreen.Mitigate) -> None:
        self.action_mitigate(event.actions, self.walk_model)

    def on_runbook_screen_retraced(self, event: RunbookScreen.Retraced) -> None:
        # The answer stays in the timeline; this entry says it no longer stands.
        undone = _step_fields(event.undone.as_json())
        at = utc(self.clock.now())
        self._write(lambda t: t.append("runbook.back", at, model=self.walk_model, **undone))

    # -- the canary

    def action_canary(self) -> None:
        """The canary screen: the drive this cockpit runs, else a watch on the rollout
        whoever drives it."""
        if self._canary_open():
            return
        watching = self.drive is None
        screen = CanaryScreen(watch_only=watching, acts=not self.config.kiosk)
        self.push_screen(screen)
        if watching:
            if self.canary_watch is None:
                self.canary_watch = CanaryWatch(self.canary_policy)
            if self._watch_timer is not None:
                self._watch_timer.stop()
            self.watch_canary()
            if self.live:
                self._watch_timer = self.set_interval(self.config.refresh_s, self._watch_tick)
        self._paint_canary()

    def _canary_open(self) -> bool:
        return any(isinstance(s, CanaryScreen) for s in self.screen_stack)

    def _watch_tick(self) -> None:
        # Read only while the screen is up (a confirmation over it counts): a closed
        # view costs no queries.
        if self._canary_open():
            self.watch_canary()
        elif self._watch_timer is not None:
            self._watch_timer.stop()
            self._watch_timer = None

    @work(exclusive=True, group="canary-watch")
    async def watch_canary(self) -> None:
        """One look at a rollout someone else drives: its figures, and the route's weight
        when the cluster is configured (else the traffic share tells the stage)."""
        watch = self.canary_watch
        assert watch is not None
        source = self.source
        now = self.clock.now()
        if not isinstance(source, CanarySource):
            watch.observe(now, None, error=f"{source.description} cannot read a canary.")
            self._paint_canary()
            return
        reading, weight, error = None, None, None
        try:
            reading = await source.canary(watch.window_s(now))
        except WarroomError as exc:
            error = f"Canary figures not read: {exc}"
        if self.mitigator is not None and self.mitigator.settings.canary_route:
            try:
                weight = await self.mitigator.canary_weight()
            except ActionError as exc:
                error = error or f"{exc} The stage is taken from the traffic share instead."
        watch.observe(now, reading, weight=weight, error=error)
        self._paint_canary()

    @work(exclusive=True, group="canary")
    async def drive_canary(self) -> None:
        """The demo's canary drive, start to end, on the cockpit's own event loop."""
        assert self.drive is not None
        try:
            await self.drive.run()
        except OSError as exc:
            pct = self.drive.state.stage_pct
            self._timeline_failed(exc, f"the canary drive stopped at {pct} %", timeout=30)

    def _canary_changed(self, state: DriveState) -> None:
        self._paint_canary()
        if state.phase == self._canary_phase:
            return
        self._canary_phase = state.phase
        # The moments that matter reach the engineer wherever they are; on the canary
        # screen the view already says them, and a toast would only cover its gates.
        if state.phase in DECIDED and not isinstance(self.screen, CanaryScreen):
            severity = "information" if state.phase == "promoted" else "error"
            self.notify(state.message, title=f"Canary {state.phase}", severity=severity,
                        timeout=20)  # fmt: skip

    def _canary_state(self) -> DriveState | None:
        if self.drive is not None:
            return self.drive.state
        return self.canary_watch.state if self.canary_watch is not None else None

    def _paint_canary(self) -> None:
        state = self._canary_state()
        if state is None:
            return
        now = self.clock.now()
        for screen in self.screen_stack:
            if isinstance(screen, CanaryScreen):
                screen.show(state, self.canary_policy, now)

    def on_canary_screen_pause(self, _: CanaryScreen.Pause) -> None:
        if self.drive is not None:
            self.drive.pause(not self.drive.state.paused)

    def on_canary_screen_promote(self, _: CanaryScreen.Promote) -> None:
        if self.drive is not None:
            self.steer_canary("promote")

    def on_canary_screen_abort(self, _: CanaryScreen.Abort) -> None:
        if self.drive is None:
            # Someone else's drive: taking the canary out is the mitigation it always is.
            self.action_mitigate(["drained-rollback"], AGGREGATE)
        else:
            self.steer_canary("abort")

    @work(exclusive=True, group="canary-steer")
    async def steer_canary(self, what: Literal["promote", "abort"]) -> None:
        """Promote or abort the drive, once the change it makes has been confirmed."""
        drive = self.drive
        assert drive is not None
        why_not = self.blocked.get("drained-rollback") if drive.route is self.mitigator else None
        if why_not:
            self.notify(why_not, severity="error", timeout=12)
            return
        try:
            if what == "abort":
                plan = await drive.route.drained_rollback()
            else:
                plan = await drive.route.plan_weight(drive.policy.stages[-1])
        except ActionError as exc:
            self.notify(str(exc), severity="error", timeout=12)
            return
        confirm = ConfirmAction(plan, where=drive.route.place, production=self.production)
        if plan.noop or not await self.push_screen_wait(confirm):
            if not plan.noop:
                self._record_cancel(plan, None)
            self.notify(f"{plan.title}: cancelled, nothing changed.")
            return
        if drive.state.phase in DECIDED:
            self.notify(f"The drive is already {drive.state.phase}: nothing more to do.")
            return
        try:
            if what == "abort":
                drive.abort(f"aborted by {self.actor}")
            else:
                drive.promote_now(self.actor)
        except OSError as exc:
            self.notify(
                f"The request is taken but not recorded ({exc.strerror or exc}).",
                severity="warning",
                timeout=12,
            )

    # -- the incident report

    @property
    def reports_dir(self) -> Path:
        """Beside the incidents: ``<state>/reports`` (the demo's apart, like its timeline)."""
        if self.report_timeline is not None:
            return self.report_timeline.path.parent.parent / "reports"
        return (self.config.state_dir or default_state_dir()) / "reports"

    def incident_report(self, overrides: Overrides | None = None) -> Report | None:
        """The report of what is on screen and in the timeline now; None before any data."""
        from tui.domain.report import build_report

        snap = self.tracker.current
        if snap is None:
            return None
        try:
            timeline = self.report_timeline
            entries = timeline.entries() if timeline is not None else []
        except OSError:
            entries = []  # said when the timeline is written; the report goes without it
        damage = timeline.damage_note() if timeline is not None else None
        return build_report(
            snapshot=snap,
            points={m: self.tracker.points(m) for m in self.tracker.history},
            events=self.tracker.events.all(),
            causes=self.causes,
            entries=entries,
            slo=self.config.slo,
            now=self.clock.now(),
            overrides=overrides,
            notes=[damage] if damage else [],
        )

    def action_export(self) -> None:
        """The export form, then the report, its JSON and the screen beside it."""
        from tui.store.report_files import existing, planned_paths
        from widgets.screens.report_form import ReportForm

        report = self.incident_report()
        if report is None:
            self.notify("No data yet: the report is written once the first refresh lands.")
            return
        paths = planned_paths(report, self.reports_dir, screenshot=True)
        form = ReportForm(report, paths.paths, existing(paths))
        self.push_screen(form, self._export_chosen)

    def _export_chosen(self, choice: ExportChoice | None) -> None:
        if choice is None:
            self.notify("Report not written.")
            return
        report = self.incident_report(choice.overrides)
        if report is None:
            return
        # The screen as the engineer sees it, the form gone.
        svg = self.export_screenshot(title=f"warroom · {printable(report.title)}")
        self.write_incident_report(report, svg, choice.replace)

    @work(thread=True, exclusive=True, group="report")
    def write_incident_report(self, report: Report, svg: str, replace: bool) -> None:
        from tui.store.report_files import write_report

        try:
            written = write_report(report, self.reports_dir, svg=svg, overwrite=replace)
        except FileExistsError as exc:
            self.call_from_thread(self.notify, f"{exc}: not replaced.", severity="warning")
            return
        except OSError as exc:
            self.call_from_thread(
                self.notify,
                f"The report cannot be written to {self.reports_dir} ({exc.strerror or exc}).",
                severity="error",
                timeout=15,
            )
            return
        at = utc(self.clock.now())
        paths = [str(p) for p in written.paths]
        self.call_from_thread(
            self._write,
            lambda t: t.append(
                "report.exported", at, actor=self.actor, paths=paths, severity=report.severity
            ),
        )
        self.call_from_thread(
            self.notify, f"Report written: {written.markdown}", title="Incident report",
            timeout=20,
        )  # fmt: skip

    # -- replay

    def action_replay_pause(self) -> None:
        if self.replay is not None:
            self.replay.toggle()
            self._paint_status()

    def action_replay_seek(self, seconds: float) -> None:
        """Jump through the recording: the panes and plots start over from there."""
        if self.replay is None:
            return
        self.replay.seek(seconds)
        # The plots start over from the new place; the GPU events already learned stay
        # (the source hands each one over only once).
        events = self.tracker.events
        self.tracker = HealthTracker(self.config.history_s)
        self.tracker.events = events
        self.load_history()
        self.refresh_data()

    # -- quitting, the name filter, the rows out of view

    def action_request_quit(self) -> None:
        """`q`: quit at once when nothing is going on, else ask first (`QuitConfirm`)."""
        if any(isinstance(s, QuitConfirm) for s in self.screen_stack):
            return  # already asking: a second q is no answer
        reasons = self._quit_reasons()
        if not reasons:
            self.exit(0)
            return
        timeline = self.report_timeline.path if self.report_timeline is not None else None
        self.push_screen(
            QuitConfirm(reasons, timeline), lambda leave: self.exit(0) if leave else None
        )

    def _quit_reasons(self) -> list[str]:
        """What `q` would end or leave behind; empty when nothing is going on. A replay
        changes nothing and leaves nothing open: it quits at once."""
        if self.replay is not None:
            return []
        snap = self.tracker.current
        drive = self.drive.state if self.drive is not None else None
        mitigating = any(
            w.group in ("mitigation", "canary-steer") and not w.is_finished for w in self.workers
        )
        return reasons_to_ask(
            breaching=self._breaching(snap) if snap is not None else 0,
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
        timeline = self.report_timeline
        if timeline is None:
            return False
        try:
            entries = timeline.entries()
        except OSError:
            return False
        kinds = [e.get("kind") for e in entries]
        last_close = max((i for i, k in enumerate(kinds) if k == CLOSED), default=-1)
        return any(k != OPENED for k in kinds[last_close + 1 :])

    def action_filter_names(self) -> None:
        """`/`: type part of a model name; the table keeps the models that hold it."""
        bar = self.query_one(FilterBar)
        was_shown = bar.display
        bar.open()
        if not was_shown:
            self.on_resize()
        self._paint_filter_count()

    def action_clear_filter(self) -> None:
        self.query_one(FilterBar).action_clear()

    def on_filter_bar_changed(self, event: FilterBar.Changed) -> None:
        if event.value == self.name_filter:
            return
        self.name_filter = event.value
        self.refresh_bindings()  # escape clears a filter, and only while there is one
        if self.tracker.current is None:
            return
        self._paint(self.tracker.current)
        # The selected model filtered out: the cursor stays on its row, now another
        # model's, and the plots and the cause line follow that one.
        model = self.query_one(HealthTable).selected_model
        if model is not None and model != self.selected:
            self.on_health_table_model_selected(HealthTable.ModelSelected(model))

    def on_filter_bar_closed(self, _: FilterBar.Closed) -> None:
        self.query_one(HealthTable).focus()
        self.on_resize()

    def _paint_filter_count(self, snapshot: Snapshot | None = None) -> None:
        snapshot = snapshot or self.tracker.current
        if snapshot is None:
            return
        shown = len(narrowed(snapshot, self.name_filter).models)
        self.query_one(FilterBar).show_count(shown, len(snapshot.models))

    def _count_rows_out_of_view(self) -> None:
        """The table's rows above and below its view, on the line under it (rows are one
        line each, so the lines scrolled past are the rows)."""
        tables, lines = self.query(HealthTable), self.query(RowsOutOfView)
        if not tables or not lines:
            return  # called after a refresh that came as the cockpit closed
        table, line = tables.first(), lines.first()
        shown = line.display
        above = round(table.scroll_y)
        below = max(0, round(table.max_scroll_y - table.scroll_y))
        line.show(above, below, overflows=table.max_scroll_y > 0)
        if line.display != shown:
            self.on_resize()  # the line takes its row from the table, not from the plots

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
        self.push_screen(HelpScreen(off))

    def action_refresh_now(self) -> None:
        if not self.refresh_data():
            self.notify("A refresh is already in flight: the data comes when it lands.")

    async def on_unmount(self) -> None:
        await self.collector.aclose()


def _step_fields(fields: dict[str, object]) -> dict[str, object]:
    """A step's JSON as timeline fields: its ``kind`` (question, check…) is the entry's
    ``step_kind``, since ``kind`` names the entry itself (``runbook.answer``)."""
    return {("step_kind" if k == "kind" else k): v for k, v in fields.items()}
