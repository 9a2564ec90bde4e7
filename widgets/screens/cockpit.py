"""The cockpit's own screen: the panes, laid out for the terminal, painting what they are handed.

The screen holds what the panes show (the selected model, the name filter, whether the
GPU grid stands in for the plots on a narrow terminal) and lays them out; the app reads
the sources and hands it each snapshot, its verdicts and causes, the plots' history and
the status line's figures. Nothing here reads a source, the store or the cluster.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget

from tui.config import Slo
from tui.domain.annotations import Mark
from tui.domain.assessed import Assessed
from tui.domain.gpu_share import gpu_util_by_model
from tui.domain.model import AGGREGATE, GpuEvent, HistoryPoint, Snapshot
from tui.domain.name_filter import narrowed
from widgets.cause_line import CauseLine
from widgets.filter_bar import FilterBar
from widgets.gpu_detail import GpuDetail
from widgets.gpu_grid import GpuGrid
from widgets.health_table import HealthTable
from widgets.history_plots import HistoryPlots
from widgets.in_force_line import InForceLine
from widgets.key_hints import PANE_KEYS, KeyHints
from widgets.key_rejections import KeyRejectionsLine
from widgets.rows_out_of_view import RowsOutOfView
from widgets.status_bar import StatusBar

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

    def __init__(
        self,
        *,
        source: str,
        context: str | None,
        cluster: str | None,
        production: bool,
        speed: float,
        slo: Slo,
        history_s: float,
        wall: bool,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._status = StatusBar(
            source, context, cluster=cluster, production=production, speed=speed, id="status"
        )
        self._slo = slo
        self._history_s = history_s
        self._wall = wall
        self.selected = AGGREGATE
        """The model under the table's cursor: the plots and the cause line follow it."""
        self.name_filter = ""
        """`/`: the text a model's name must hold to be in the table ("" shows all)."""
        self.show_gpus = False
        """On a narrow terminal: the GPU grid is shown in place of the plots."""
        self._snapshot: Snapshot | None = None
        """The latest snapshot handed over, for the filter's count of what it keeps."""

    def compose(self) -> ComposeResult:
        yield self._status
        yield HealthTable(self._slo, wall=self._wall, id="health")
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

    def on_mount(self) -> None:
        table = self.query_one(HealthTable)
        table.focus()
        # The rows scrolled out of view are counted when the table scrolls or its rows
        # change; a change of its height comes with a resize (`lay_out`).
        self.watch(table, "scroll_y", self.count_rows_out_of_view, init=False)
        self.watch(table, "virtual_size", self.count_rows_out_of_view, init=False)
        self.query_one(GpuGrid).set_message("GPUs: waiting for first data…")

    @property
    def has_panes(self) -> bool:
        """False once the cockpit is closing: a refresh landing then has nothing to paint."""
        return bool(self.query(HealthTable))

    @property
    def empty(self) -> bool:
        """No snapshot painted yet: the table has no rows."""
        return self.query_one(HealthTable).row_count == 0

    @property
    def cursor_model(self) -> str | None:
        """The model under the table's cursor, whichever the panes follow."""
        return self.query_one(HealthTable).selected_model

    def show(
        self,
        snapshot: Snapshot,
        assessed: Assessed,
        events: Sequence[GpuEvent],
        evidence_note: str | None,
        *,
        first: bool = False,
    ) -> None:
        """Paint ``snapshot`` (``assessed``: its verdicts and causes) on the table, the cause
        line, the 429 line and the GPU grid."""
        self._snapshot = snapshot
        table = self.query_one(HealthTable)
        # `/`: the table is handed the models the filter keeps (the Σ row stays), and the
        # verdicts of them all.
        table.show(narrowed(snapshot, self.name_filter), assessed, gpu_util_by_model(snapshot.gpus))
        self._paint_filter_count()
        if first and table.row_count > 1:
            # Open on the worst model, not the aggregate: its plot is what matters.
            table.move_cursor(row=1, animate=False)
        self.query_one(KeyRejectionsLine).show(snapshot.rate_limited_keys)
        self.query_one(CauseLine).show(self.selected, assessed, evidence_note)
        grid = self.query_one(GpuGrid)
        if snapshot.gpus:
            grid.show(snapshot.gpus, events)
            # The detail pane shows the KV cache of the GPU's model: vLLM pre-allocates the
            # framebuffer, so that, not memory used, says how full the GPU really is.
            self.query_one(GpuDetail).set_models(snapshot.models)
        else:
            grid.set_message(snapshot.gpu_error or "No GPU data.")

    def show_status(
        self,
        snapshot: Snapshot | None,
        now: float,
        *,
        error: str | None,
        assessed: Assessed | None,
        late_s: float | None,
        incident_since: float | None,
        replay: str | None = None,
    ) -> None:
        """The top line; ``replay`` takes the context's place (where the playback is)."""
        if replay is not None:
            self._status.context = replay
        self._status.show(
            snapshot,
            now,
            error=error,
            assessed=assessed,
            sort=self.query_one(HealthTable).sort_label,
            late_s=late_s,
            incident_since=incident_since,
        )

    def show_plots(self, points: Sequence[HistoryPoint], now: float, marks: Sequence[Mark]) -> None:
        """The selected model's history, with the marks of what was done."""
        self.query_one(HistoryPlots).show(
            self.selected, points, now, self._history_s, self._slo, marks=marks
        )

    def show_in_force(self, line: Sequence[str]) -> None:
        self.query_one(InForceLine).show(line)

    def select(self, model: str, assessed: Assessed | None, evidence_note: str | None) -> bool:
        """The grid and the cause line follow ``model``; False when it was already selected
        (or the panes are gone), True when the plots must follow it too."""
        if not self.query(GpuGrid):
            return False  # a refresh's row moved as the cockpit closed: no pane is left
        if model == self.selected:
            return False
        self.selected = model
        self.query_one(GpuGrid).highlight(None if model == AGGREGATE else model)
        self.query_one(CauseLine).show(self.selected, assessed, evidence_note)
        return True

    def on_health_table_view_resized(self, _: HealthTable.ViewResized) -> None:
        self.count_rows_out_of_view()

    def on_gpu_grid_gpu_selected(self, event: GpuGrid.GpuSelected) -> None:
        self.query_one(GpuDetail).show(event.gpu, event.events)

    def toggle_gpus(self) -> None:
        """Move to the GPU grid (showing it in place of the plots when narrow) and back."""
        grid = self.query_one(GpuGrid)
        if grid.has_focus:
            self.show_gpus = False
            self.query_one(HealthTable).focus()
        else:
            self.show_gpus = True
            grid.focus()
        self.lay_out_detail()

    def lay_out(self) -> None:
        """Share the terminal's height between the table and the lower half."""
        size = self.app.size
        # The table takes the rows it needs but leaves the lower half at least
        # DETAIL_MIN_ROWS: CSS cannot cap an auto height by a sibling's minimum.
        chrome = 3  # status line, cause line and footer
        # The line counting the rows out of view, and the filter's, when they show.
        chrome += sum(self.query_one(w).display for w in (RowsOutOfView, FilterBar))
        # A tall screen gives the plots and the GPU grid close to half of it; the wall
        # screen, read from across the room, two thirds.
        share = 0.65 if self._wall else 0.45
        lower = max(DETAIL_MIN_ROWS, int(size.height * share))
        self.query_one(HealthTable).styles.max_height = max(6, size.height - chrome - lower)
        self.lay_out_detail()
        self.call_after_refresh(self.count_rows_out_of_view)

    def lay_out_detail(self) -> None:
        wide = self.app.size.width >= SIDE_BY_SIDE_FROM
        self.query_one("#plots-pane").display = wide or not self.show_gpus
        self.query_one("#gpu-pane").display = wide or self.show_gpus

    def count_rows_out_of_view(self) -> None:
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
            self.lay_out()  # the line takes its row from the table, not from the plots

    # -- the name filter

    @property
    def filter_editing(self) -> bool:
        """The filter's field has the keys (it takes `/` and escape as its own)."""
        return self.query_one(FilterBar).editing

    def open_filter(self) -> None:
        """`/`: type part of a model name; the table keeps the models that hold it."""
        bar = self.query_one(FilterBar)
        was_shown = bar.display
        bar.open()
        if not was_shown:
            self.lay_out()
        self._paint_filter_count()

    def clear_filter(self) -> None:
        self.query_one(FilterBar).action_clear()

    def filter_by(self, text: str) -> bool:
        """Keep ``text`` as the filter; False when it was the filter already."""
        if text == self.name_filter:
            return False
        self.name_filter = text
        return True

    def on_filter_bar_closed(self, _: FilterBar.Closed) -> None:
        self.query_one(HealthTable).focus()
        self.lay_out()

    def _paint_filter_count(self) -> None:
        snapshot = self._snapshot
        if snapshot is None:
            return
        shown = len(narrowed(snapshot, self.name_filter).models)
        self.query_one(FilterBar).show_count(shown, len(snapshot.models))
