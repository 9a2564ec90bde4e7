"""The cockpit: a Textual app that refreshes one source and hands snapshots to widgets.

The collection loop lives here, apart from the panes: a worker reads the source off
the event loop, `HealthTracker` decides what to show (keeping the last good data when
a refresh fails), and each widget is given exactly what it renders.
"""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Footer

from tui.clock import Clock, WallClock
from tui.config import Config
from tui.errors import SourceError
from tui.model import AGGREGATE, Snapshot
from tui.severity import Level, assess
from tui.sources.base import HealthSource
from tui.tracker import HealthTracker
from widgets.health_table import HealthTable
from widgets.help_screen import HelpScreen
from widgets.history_plots import HistoryPlots
from widgets.key_rejections import KeyRejectionsLine
from widgets.status_bar import StatusBar

DETAIL_MIN_ROWS = 13
"""Plots (10), the 429-by-key line and the border above them."""


class WarroomApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "warroom"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("r", "refresh_now", "Refresh"),
    ]

    def __init__(
        self,
        source: HealthSource,
        config: Config,
        *,
        clock: Clock | None = None,
        context: str | None = None,
        live: bool = True,
    ) -> None:
        super().__init__()
        self.source = source
        self.config = config
        self.clock = clock or WallClock()
        self.context = context
        self.live = live
        self.tracker = HealthTracker(config.history_s)
        self.selected = AGGREGATE
        self.last_error: str | None = None

    def compose(self) -> ComposeResult:
        yield StatusBar(self.source.description, self.context, id="status")
        yield HealthTable(self.config.slo, id="health")
        with Vertical(id="detail"):
            yield HistoryPlots(id="history")
            yield KeyRejectionsLine(id="keys")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(HealthTable).focus()
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
            snapshot = self.tracker.accept(await self.source.refresh())
            self.last_error = None
        except SourceError as exc:
            self.last_error = str(exc)
            snapshot = self.tracker.fail(self.last_error)
        if snapshot is not None:
            table = self.query_one(HealthTable)
            first = table.row_count == 0
            table.show(snapshot)
            if first and table.row_count > 1:
                # Open on the worst model, not the aggregate: its plot is what matters.
                table.move_cursor(row=1, animate=False)
            self.query_one(KeyRejectionsLine).show(snapshot.rate_limited_keys)
            self._paint_plots()
        self._paint_status()

    def _paint_status(self) -> None:
        snap = self.tracker.current
        self.query_one(StatusBar).show(
            snap,
            self.clock.now(),
            error=self.last_error,
            breaching=_breaching(snap, self.config) if snap else 0,
            sort=self.query_one(HealthTable).sort_label,
        )

    def on_resize(self) -> None:
        # The table takes the rows it needs but leaves the plots at least DETAIL_MIN_ROWS:
        # CSS cannot cap an auto height by a sibling's minimum.
        chrome = 2  # status line and footer
        self.query_one(HealthTable).styles.max_height = max(
            6, self.size.height - chrome - DETAIL_MIN_ROWS
        )

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
            self._paint_plots()

    def on_health_table_sort_changed(self, _: HealthTable.SortChanged) -> None:
        self._paint_status()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_refresh_now(self) -> None:
        self.refresh_data()

    async def on_unmount(self) -> None:
        await self.source.aclose()


def _breaching(snapshot: Snapshot, config: Config) -> int:
    return sum(1 for m in snapshot.models if assess(m, config.slo).level == Level.BREACH)
