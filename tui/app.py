"""The cockpit: a Textual app that refreshes one collector and hands snapshots to widgets.

The collection loop lives here, apart from the panes: a worker reads the health source
(and NVML) off the event loop, another reads pod evidence at its own slower pace,
`HealthTracker` decides what to show (keeping the last good data when a refresh fails),
and each widget is given exactly what it renders.
"""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer

from tui.cause import SuspectedCause, suspect
from tui.collect import Collector
from tui.config import Config
from tui.durations import human_age
from tui.errors import SourceError
from tui.model import AGGREGATE, GpuEvent, Snapshot
from tui.severity import Level, assess
from tui.sources.base import HealthSource
from tui.timeline import Timeline
from tui.tracker import HealthTracker
from widgets.cause_line import CauseLine
from widgets.gpu_detail import GpuDetail
from widgets.gpu_grid import GpuGrid
from widgets.health_table import HealthTable
from widgets.help_screen import HelpScreen
from widgets.history_plots import HistoryPlots
from widgets.key_rejections import KeyRejectionsLine
from widgets.status_bar import StatusBar

DETAIL_MIN_ROWS = 13
"""Plots (10), the 429-by-key line and the border above them."""
SIDE_BY_SIDE_FROM = 160
"""Terminal width from which the plots and the GPU grid share the lower half; narrower
terminals show one of them at a time (`g` switches)."""


class WarroomApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "warroom"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("r", "refresh_now", "Refresh"),
        Binding("g", "toggle_gpus", "GPUs"),
    ]

    def __init__(
        self,
        collector: Collector,
        config: Config,
        *,
        context: str | None = None,
        live: bool = True,
        timeline: Timeline | None = None,
    ) -> None:
        super().__init__()
        self.collector = collector
        self.config = config
        self.clock = collector.clock
        self.context = context
        self.live = live
        self.timeline = timeline
        self.tracker = HealthTracker(config.history_s)
        self.selected = AGGREGATE
        self.last_error: str | None = None
        self.evidence_note: str | None = collector.pods_note
        self.causes: dict[str, SuspectedCause] = {}
        self.show_gpus = False
        """On a narrow terminal: the GPU grid is shown in place of the plots."""

    @property
    def source(self) -> HealthSource:
        return self.collector.source

    def compose(self) -> ComposeResult:
        yield StatusBar(self.source.description, self.context, id="status")
        yield HealthTable(self.config.slo, id="health")
        yield CauseLine(id="cause")
        with Horizontal(id="detail"):
            with Vertical(id="plots-pane"):
                yield HistoryPlots(id="history")
                yield KeyRejectionsLine(id="keys")
            with Vertical(id="gpu-pane"):
                yield GpuGrid(id="gpus")
                yield GpuDetail(id="gpu-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(HealthTable).focus()
        self.query_one(GpuGrid).set_message("GPUs: waiting for first data…")
        self._paint_status()
        self.load_history()
        self.refresh_data()
        if self.live:
            self.set_interval(self.config.refresh_s, self.refresh_data)
            self.set_interval(1.0, self._paint_status)

    @work(exclusive=True, group="history")
    async def load_history(self) -> None:
        try:
            points = await self.source.history()
        except SourceError as exc:
            self.notify(f"History not loaded: {exc}", severity="warning", timeout=8)
            return
        self.tracker.backfill(points)
        self._paint_plots()

    @work(exclusive=True, group="refresh")
    async def refresh_data(self) -> None:
        try:
            snapshot = self.tracker.accept(await self.collector.collect())
            self.last_error = None
            self._record(self.tracker.new_events)
        except SourceError as exc:
            self.last_error = str(exc)
            snapshot = self.tracker.fail(self.last_error)
        if snapshot is not None:
            self._paint(snapshot, first=self.query_one(HealthTable).row_count == 0)
            if self.collector.evidence_due():
                self.read_pod_evidence(snapshot)
        self._paint_status()

    @work(exclusive=True, group="evidence")
    async def read_pod_evidence(self, snapshot: Snapshot) -> None:
        """Pod status and logs behind sick models: slower than a refresh, so apart from it."""
        evidence = await self.collector.pod_evidence(snapshot)
        if evidence is None:
            return
        self.evidence_note = evidence.error
        self._record(self.tracker.events.add(evidence.events))
        current = self.tracker.current
        if current is not None:
            self._paint(current)

    def _record(self, events: list[GpuEvent]) -> None:
        """New GPU events go into the incident timeline as they are learned."""
        if self.timeline is None or not events:
            return
        try:
            for event in events:
                self.timeline.record_gpu_event(event)
        except OSError as exc:
            self.notify(
                f"The incident timeline {self.timeline.path} cannot be written "
                f"({exc.strerror or exc}); events stay on screen only.",
                severity="error",
                timeout=10,
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
        table.show(snapshot, self.causes)
        if first and table.row_count > 1:
            # Open on the worst model, not the aggregate: its plot is what matters.
            table.move_cursor(row=1, animate=False)
        self.query_one(KeyRejectionsLine).show(snapshot.rate_limited_keys)
        self.query_one(CauseLine).show(self.selected, self.causes, self.evidence_note)
        grid = self.query_one(GpuGrid)
        if snapshot.gpus:
            grid.show(snapshot.gpus, events)
        else:
            grid.set_message(snapshot.gpu_error or "No GPU data.")
        self._paint_plots()

    def _paint_status(self) -> None:
        snap = self.tracker.current
        now = self.clock.now()
        reason = self.last_error
        read_at = self.tracker.gpus_read_at
        if reason is None and snap and snap.gpu_error and snap.gpus and read_at is not None:
            # The panes are fresh but the grid is not: say why, and how old it is.
            age = human_age(now - read_at.timestamp())
            reason = f"{snap.gpu_error.rstrip('.')}; the GPU grid shows data {age} old."
        self.query_one(StatusBar).show(
            snap,
            now,
            error=reason,
            breaching=_breaching(snap, self.config) if snap else 0,
            sort=self.query_one(HealthTable).sort_label,
        )

    def on_resize(self) -> None:
        # The table takes the rows it needs but leaves the lower half at least
        # DETAIL_MIN_ROWS: CSS cannot cap an auto height by a sibling's minimum.
        chrome = 3  # status line, cause line and footer
        # A tall screen gives the plots and the GPU grid close to half of it.
        lower = max(DETAIL_MIN_ROWS, int(self.size.height * 0.45))
        self.query_one(HealthTable).styles.max_height = max(6, self.size.height - chrome - lower)
        self._lay_out_detail()

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
        )

    def on_health_table_model_selected(self, event: HealthTable.ModelSelected) -> None:
        if event.model != self.selected:
            self.selected = event.model
            self.query_one(GpuGrid).highlight(None if event.model == AGGREGATE else event.model)
            self.query_one(CauseLine).show(self.selected, self.causes, self.evidence_note)
            self._paint_plots()

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

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_refresh_now(self) -> None:
        self.refresh_data()

    async def on_unmount(self) -> None:
        await self.collector.aclose()


def _breaching(snapshot: Snapshot, config: Config) -> int:
    return sum(1 for m in snapshot.models if assess(m, config.slo).level == Level.BREACH)
