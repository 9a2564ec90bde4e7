"""The per-model health pane: one row per model, worst first, the whole API on top.

Threshold state is shown by a symbol as well as a colour (✖ breach, ▲ warning, ✓ fine,
? no data) so the pane reads on a monochrome terminal and to colour-blind eyes. A
refresh first compares what each row would read (its figures as printed, its levels);
only rows that read differently get new cells, and only cells whose text changed are
written. Healthy rows keep their places (`pane_order`), so a quiet fleet of hundreds of
models costs almost nothing to redraw over SSH.

The table is as wide as the screen: the figures keep fixed widths, the names take what
they leave (up to the longest) and are cut in the middle where they must be, keeping the
tail that tells fine-tuned variants apart (`tui.domain.names`); the suspected cause takes the
rest. The GPU column (mean utilization of the model's GPUs, computed by the app) is the
first to go on a narrow terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import ClassVar

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import BindingType
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from tui.config import Slo
from tui.domain.assessed import Assessed, Verdicts
from tui.domain.cause import SuspectedCause
from tui.domain.format import (
    NO_DATA,
    NO_SOURCE,
    figure_text,
    fmt_latency,
    fmt_percent,
    fmt_queue,
    fmt_ratio,
    fmt_rps,
    model_label,
    printable,
)
from tui.domain.model import AGGREGATE, ModelHealth, Snapshot
from tui.domain.names import fit_names
from tui.domain.severity import PER_MODEL, Judged, Level, pane_order, signal_level
from widgets.keymap import bindings

SYMBOL = {Level.BREACH: "✖", Level.WARN: "▲", Level.OK: "✓", Level.NO_DATA: "?"}
STYLE = {Level.BREACH: "bold red", Level.WARN: "yellow", Level.OK: "green", Level.NO_DATA: "dim"}

# (column key, header, field, formatter, judged against an SLO, width). Widths are fixed,
# wide enough for the longest figure with its symbol ("9.99s✖", "99.9%✖"): DataTable 8.2
# measures auto widths only on idle, and a paint before that drew rows at the header's
# width ("2.3" for "2.34s"); columns that never move also keep the eye steady.
_Column = tuple[str, str, str, Callable[[float | None], str], bool, int]
COLUMNS: tuple[_Column, ...] = (
    ("p50", "p50", "p50_s", fmt_latency, False, 6),
    ("p95", "p95", "p95_s", fmt_latency, False, 6),
    ("p99", "p99", "p99_s", fmt_latency, True, 6),
    ("ttft", "TTFT", "ttft_p99_s", fmt_latency, True, 6),
    ("rps", "req/s", "rps", fmt_rps, False, 5),
    ("5xx", "5xx", "error_5xx_ratio", fmt_ratio, True, 6),
    ("429", "429", "rate_429_ratio", fmt_ratio, True, 6),
    ("queue", "queue", "queue_depth", fmt_queue, True, 5),
    ("kv", "KV", "kv_cache_ratio", fmt_percent, True, 5),
)

SORTS: tuple[tuple[str, str | None], ...] = (
    ("severity", None),
    ("p99", "p99_s"),
    ("5xx", "error_5xx_ratio"),
    ("429", "rate_429_ratio"),
    ("req/s", "rps"),
    ("name", "model"),
)
"""Sort orders the `s` key cycles through: (label, ModelHealth field or None for severity)."""

OFF_SCREEN_MARGIN = 4
"""Rows this far beyond the visible ones are written at once, as if on screen."""
GPU_WIDTH = 5
"""The GPU utilization column ("100%"): the mean of the model's GPUs, handed to `show`
(`tui.domain.gpu_share`), never judged against an SLO."""
COMPACT_BELOW = 100
"""Table width (cells) under which the p50 and p95 columns are dropped."""
CAUSE_FROM = 130
"""Table width from which a column names each model's suspected cause (narrower
terminals show it on the line under the table)."""
CAUSE_WIDTH = 30
"""The cause column's least width: it also takes what the names leave."""
NAME_MIN = 12
"""The narrowest the name column gets: below it the table scrolls sideways."""
GPU_NAME_ROOM = 24
"""Cells the GPU column must leave the names (or the longest name, if shorter): it is
the first column to go when the terminal narrows."""


@dataclass(frozen=True, slots=True)
class Columns:
    """Which columns the table has at a width, and how wide the names are: the name
    column takes what the figures leave, up to the longest name, and the cause column
    (where there is one) the rest."""

    compact: bool
    with_gpu: bool
    with_cause: bool
    name_width: int
    cause_width: int = CAUSE_WIDTH


def cell(
    health: ModelHealth,
    field: str,
    fmt: Callable[[float | None], str],
    slo: Slo | None,
    unsourced: frozenset[str] = frozenset(),
) -> Text:
    value = getattr(health, field)
    text = figure_text(health, field, fmt, unsourced)
    if text == NO_SOURCE:
        return Text(NO_SOURCE, style="dim italic", justify="right")
    if value is None:
        return Text(NO_DATA, style="dim", justify="right")
    if slo is None:
        return Text(text, justify="right")
    level = signal_level(health, field, slo)
    if level in (Level.BREACH, Level.WARN):
        return Text(f"{text}{SYMBOL[level]}", style=STYLE[level], justify="right")
    return Text(f"{text} ", justify="right")


STALE = " (stale)"
"""After a stale row's name, where the column has room for it (dim italic says it too)."""


def row_labels(rows: Iterable[tuple[str, bool]], width: int) -> dict[tuple[str, bool], str]:
    """Each (model, stale) row's name as it fits ``width`` cells: cut in the middle, no two
    alike (`fit_names`), a stale one followed by `STALE` where that leaves the name at
    least `NAME_MIN` cells."""
    rows = list(rows)
    fresh = fit_names((model_label(m) for m, stale in rows if not stale), width)
    stale_labels = [model_label(m) for m, stale in rows if stale]
    with_word = width - len(STALE) >= NAME_MIN
    stale = fit_names(stale_labels, width - len(STALE) if with_word else width)
    labels: dict[tuple[str, bool], str] = {}
    for model, is_stale in rows:
        label = model_label(model)
        if not is_stale:
            labels[(model, False)] = fresh[label]
        elif with_word:
            labels[(model, True)] = stale[label] + STALE
        else:
            labels[(model, True)] = stale[label]
    return labels


class HealthTable(DataTable[Text]):
    """Renders a `Snapshot`; it never reads a source."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("table")

    DEFAULT_CSS = """
    HealthTable { height: 1fr; }
    HealthTable > .datatable--fixed { text-style: bold; }
    /* No focus tint (DataTable's): focus shows as the bright cursor bar and the key line,
       and `g` then redraws the cursor row's cells rather than every cell on screen. */
    HealthTable:focus { background-tint: $foreground 0%; }
    HealthTable:focus > .datatable--header { background-tint: $foreground 0%; }
    """

    class ModelSelected(Message):
        """The highlighted row changed to ``model`` (`AGGREGATE` for the whole API)."""

        def __init__(self, model: str) -> None:
            super().__init__()
            self.model = model

    class SortChanged(Message):
        def __init__(self, label: str) -> None:
            super().__init__()
            self.label = label

    class ViewResized(Message):
        """The table's view changed size: how many rows are out of view may have too."""

    def __init__(self, slo: Slo, *, wall: bool = False, id: str | None = None) -> None:
        # The aggregate row is pinned once it exists: DataTable (8.2) cannot render a
        # fixed row that is not there yet.
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, fixed_rows=0)
        self.slo = slo
        self.sort_index = 0
        self._shown: dict[tuple[str, str], Text] = {}
        self._drawn: dict[tuple[object, object], tuple[Text, tuple[object, ...], object]] = {}
        """Each cell's lines with the Text and the state they were drawn from: DataTable
        forgets every cell on any change and on focus; a cell whose Text and state are
        the same is not drawn again."""
        self._reads: dict[str, tuple[object, ...]] = {}
        """What each row read when its cells were last written (`_reading`)."""
        self._pending: dict[str, ModelHealth] = {}
        """Rows off screen whose new figures are not written yet (`show`)."""
        self._order: list[str] = []
        self._snapshot: Snapshot | None = None
        self._unsourced: frozenset[str] = frozenset()
        """The figures no stack in use exports (`Snapshot.unsourced`): ``n/s`` cells."""
        self._assessed: Assessed | None = None
        """What `show` was handed: the rows' verdicts and causes, judged once per refresh."""
        self._verdicts: Judged = Verdicts({}, 0)
        self._causes: Mapping[str, SuspectedCause] = {}
        self.wall = wall
        """The wall screen: the columns read from across the room (p99 and the error
        ratios), as on a narrow terminal, however wide the screen is."""
        self._gpu_util: Mapping[str, float | None] = {}
        """Mean utilization of each model's GPUs (`tui.domain.gpu_share`), as handed to `show`."""
        self._longest = 0
        """The longest model name, in cells: the name column needs no more."""
        self._names: frozenset[tuple[str, bool]] = frozenset()
        """Every row's model and whether it is stale."""
        self._labels: dict[tuple[str, bool], str] = {}
        """Each row's name as it fits the name column (`row_labels`)."""
        self._labelled: tuple[frozenset[tuple[str, bool]], int] | None = None
        """The names and the width `_labels` were cut for."""
        self.columns_layout = Columns(False, False, False, NAME_MIN)
        """Which columns the table has now, and how wide its names are."""

    @property
    def compact(self) -> bool:
        return self.columns_layout.compact

    @property
    def with_cause(self) -> bool:
        return self.columns_layout.with_cause

    @property
    def with_gpu(self) -> bool:
        return self.columns_layout.with_gpu

    @property
    def sort_label(self) -> str:
        return SORTS[self.sort_index][0]

    @property
    def selected_model(self) -> str | None:
        if self.row_count == 0:
            return None
        key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key
        return key.value

    def on_mount(self) -> None:
        self._build_columns(self._layout(self.size.width))

    def on_resize(self) -> None:
        # Its height settles after the screen's layout, not with the scroll or the rows:
        # whoever counts the rows out of view counts again.
        self.post_message(self.ViewResized())
        if self._layout(self.size.width) == self.columns_layout:
            return
        if self._snapshot is not None:
            self.show(self._snapshot, self._assessed)  # lays the columns out
        else:
            self._build_columns(self._layout(self.size.width))

    def _layout(self, width: int) -> Columns:
        """The columns for ``width`` cells: narrow terminals drop the GPU column first, then
        p50 and p95, never p99 or the error ratios; the names get what is left (a
        vertical scrollbar's width kept for it, so the layout never moves with it)."""
        compact = self._is_compact(width)
        with_cause = width >= CAUSE_FROM
        pad = 2 * self.cell_padding
        used = 1 + pad + pad + self.styles.scrollbar_size_vertical  # state, name padding
        used += sum(column[5] + pad for column in self._columns(compact))
        if with_cause:
            used += CAUSE_WIDTH + pad
        room = width - used
        gpu = GPU_WIDTH + pad
        with_gpu = not self.wall and room - gpu >= min(self._longest, GPU_NAME_ROOM)
        if with_gpu:
            room -= gpu
        name_width = max(NAME_MIN, min(room, self._longest))
        cause_width = CAUSE_WIDTH + max(0, room - name_width) if with_cause else CAUSE_WIDTH
        return Columns(compact, with_gpu, with_cause, name_width, cause_width)

    def _build_columns(self, layout: Columns) -> None:
        self.columns_layout = layout
        self.clear(columns=True)
        self._shown.clear()
        self._drawn.clear()
        self._reads.clear()
        self._pending.clear()
        self._order = []
        self.add_column(Text(" "), key="state", width=1)
        self.add_column(Text("model"), key="model", width=layout.name_width)
        for key, header, _, _, _, width in self._columns(layout.compact):
            if key == "kv" and layout.with_gpu:
                self.add_column(Text("GPU", justify="right"), key="gpu", width=GPU_WIDTH)
            self.add_column(Text(header, justify="right"), key=key, width=width)
        if layout.with_cause:
            self.add_column(Text("suspected cause"), key="cause", width=layout.cause_width)

    def _resize_columns(self, layout: Columns) -> None:
        """Only the widths of the name and cause columns change (a resize, a longer name,
        rows gone stale): set in place, the rows kept, rather than the table rebuilt."""
        self.columns_layout = layout
        self.columns[ColumnKey("model")].width = layout.name_width
        if layout.with_cause:
            self.columns[ColumnKey("cause")].width = layout.cause_width
        self._clear_caches()
        self._update_count += 1
        self._update_dimensions(())
        self.refresh()

    def _is_compact(self, width: int) -> bool:
        return self.wall or width < COMPACT_BELOW

    def _columns(self, compact: bool | None = None) -> tuple[_Column, ...]:
        if self.compact if compact is None else compact:
            return tuple(c for c in COLUMNS if c[0] not in ("p50", "p95"))
        return COLUMNS

    def show(
        self,
        snapshot: Snapshot,
        assessed: Assessed | None = None,
        gpu_util: Mapping[str, float | None] | None = None,
    ) -> None:
        """``assessed``: the refresh's verdicts and causes (what GPU evidence says is
        behind each model's 5xx), judged once for every pane; ``snapshot`` may be a
        narrowing of its snapshot (the name filter keeps the same rows). Judged here when
        absent. ``gpu_util``: the mean utilization of each model's GPUs
        (`tui.domain.gpu_share`), kept from the last call when absent."""
        self._snapshot = snapshot
        if gpu_util is not None:
            self._gpu_util = gpu_util
        rows = [snapshot.aggregate, *snapshot.models]
        names = frozenset((m.model, m.stale) for m in rows)
        if names != self._names:
            self._names = names
            self._longest = max(
                cell_len(model_label(name)) + (len(STALE) if stale else 0) for name, stale in names
            )
        layout = self._layout(self.size.width)
        keep = None
        widths = {"name_width": layout.name_width, "cause_width": layout.cause_width}
        if layout == replace(self.columns_layout, **widths):
            if layout != self.columns_layout:
                self._resize_columns(layout)
        else:
            # Rebuilding the columns drops every row: keep the engineer's selection.
            keep = self.selected_model
            self._build_columns(layout)
        if (names, layout.name_width) != self._labelled:
            self._labelled = (names, layout.name_width)
            labels = row_labels(names, layout.name_width)
            if labels != self._labels:
                self._labels = labels
                self._reads.clear()  # some rows read differently now
        if assessed is None:
            # A snapshot shown on its own, no refresh behind it: judged by the same builder.
            assessed = Assessed.build(snapshot, self.slo)
        self._assessed = assessed
        self._verdicts = assessed.verdicts
        self._causes = assessed.causes
        if snapshot.unsourced != self._unsourced:
            self._unsourced = snapshot.unsourced
            self._reads.clear()  # every row reads differently now
        rows = [snapshot.aggregate, *self._ordered(snapshot.models)]  # in their order
        present = {m.model for m in rows}
        for key in [k for k in self.rows if k.value not in present]:
            self.remove_row(key)
            self._shown = {k: v for k, v in self._shown.items() if k[0] != key.value}
            self._reads.pop(str(key.value), None)
            self._pending.pop(str(key.value), None)
            self._drawn = {k: v for k, v in self._drawn.items() if k[0] != key}
        # Rows off screen that read differently are written when they are drawn or read
        # (`_pending`): at 200 models most rows are off screen and most change every refresh.
        top = round(self.scroll_offset.y)
        on_screen = range(
            max(0, top - OFF_SCREEN_MARGIN), top + self.size.height + OFF_SCREEN_MARGIN
        )
        deferred = False
        for position, health in enumerate(rows):
            lazy = position > 0 and position not in on_screen and health.model in self.rows
            deferred = self._render_row(health, lazy=lazy) or deferred
        if deferred:
            # DataTable keeps drawn rows until its update count moves; a deferred row must
            # not come back on screen from that cache with its old figures.
            self._update_count += 1
            self.refresh()
        self.fixed_rows = 1
        order = [m.model for m in rows]
        if order != self._order:
            selected = self.selected_model
            position = {name: i for i, name in enumerate(order)}
            # DataTable sorts on cell values, not row keys: map each row's model cell
            # (the very object this widget stored) back to its place in the order.
            by_cell = {id(self._shown[(name, "model")]): i for name, i in position.items()}
            self.sort("model", key=lambda c: by_cell[id(c)])
            self._order = order
            if keep is not None:
                selected = keep
            if selected in position:
                self.move_cursor(row=position[selected], animate=False)

    def _ordered(self, models: Sequence[ModelHealth]) -> list[ModelHealth]:
        field = SORTS[self.sort_index][1]
        if field is None:
            return pane_order(models, self.slo, self._verdicts)
        if field == "model":
            return sorted(models, key=lambda m: m.model)
        return sorted(models, key=lambda m: (-(getattr(m, field) or -1.0), m.model))

    def _reading(self, health: ModelHealth) -> tuple[object, ...]:
        """Everything a row's cells are made from, as printed: equal readings make equal
        cells, so building them (the costly part of a refresh) can be skipped."""
        unsourced = self._unsourced
        figures = tuple(
            (figure_text(health, field, fmt, unsourced), (value := getattr(health, field)) is None,
             judged and value is not None and signal_level(health, field, self.slo))
            for _, _, field, fmt, judged, _ in self._columns()
        )  # fmt: skip
        cause = self._causes.get(health.model) if self.with_cause else None
        level = self._verdicts.of(health, self.slo).level
        gpu = self._gpu_util.get(health.model) if self.with_gpu else None
        gpu_text = None if gpu is None else fmt_percent(gpu)
        return (level, health.stale, figures, cause and cause.short, gpu_text)

    def _render_row(self, health: ModelHealth, *, lazy: bool = False) -> bool:
        """Bring a row up to date, or (``lazy``, a row off screen) note it for when it is
        drawn or read. True when it was deferred."""
        reading = self._reading(health)
        if self._reads.get(health.model) == reading and health.model in self.rows:
            return False
        self._reads[health.model] = reading
        if lazy:
            self._pending[health.model] = health
            return True
        self._pending.pop(health.model, None)
        self._write_row(health)
        return False

    def _materialize(self, model: str) -> None:
        """Write a deferred row's cells now, straight into the table's data: it is being
        drawn or read at this moment, and the update count already moved past it."""
        health = self._pending.pop(model)
        columns = {key.value: key for key in self.columns}
        row = self._data[RowKey(model)]
        for col, text in self._changed(model, self._cells(health)):
            row[columns[col]] = text

    def _materialize_all(self) -> None:
        for model in list(self._pending):
            self._materialize(model)

    def get_row(self, row_key: RowKey | str) -> list[Text]:
        self._materialize_all()
        return super().get_row(row_key)

    def get_row_at(self, row_index: int) -> list[Text]:
        self._materialize_all()
        return super().get_row_at(row_index)

    def get_cell(self, row_key: RowKey | str, column_key: ColumnKey | str) -> Text:
        self._materialize_all()
        return super().get_cell(row_key, column_key)

    def get_cell_at(self, coordinate: Coordinate) -> Text:
        self._materialize_all()
        return super().get_cell_at(coordinate)

    def _write_row(self, health: ModelHealth) -> None:
        cells = self._cells(health)
        row_key = health.model
        if row_key not in self.rows:
            self.add_row(*cells.values(), key=row_key)
            self._shown.update(((row_key, col), text) for col, text in cells.items())
            return
        for col, text in self._changed(row_key, cells):
            self.update_cell(row_key, col, text)

    def _changed(self, model: str, cells: Mapping[str, Text]) -> list[tuple[str, Text]]:
        """The cells whose text differs from what the row holds, noted as now held."""
        changed = [(c, t) for c, t in cells.items() if self._shown.get((model, c)) != t]
        self._shown.update(((model, c), t) for c, t in changed)
        return changed

    def _cells(self, health: ModelHealth) -> dict[str, Text]:
        verdict = self._verdicts.of(health, self.slo)
        name = self._labels.get((health.model, health.stale)) or model_label(health.model)
        name_style = "bold" if health.model == AGGREGATE else ""
        if health.stale:
            name_style = "dim italic"
        cells: dict[str, Text] = {
            "state": Text(SYMBOL[verdict.level], style=STYLE[verdict.level]),
            "model": Text(name, style=name_style, overflow="ellipsis", no_wrap=True),
        }
        for key, _, field, fmt, judged, _ in self._columns():
            if key == "kv" and self.with_gpu:
                cells["gpu"] = self._gpu_cell(health.model)
            # Queue and KV cache are per-model lines: the fleet-wide sum or maximum is not.
            if health.model == AGGREGATE and field in PER_MODEL:
                judged = False
            cells[key] = cell(health, field, fmt, self.slo if judged else None, self._unsourced)
        if self.with_cause:
            cause = self._causes.get(health.model)
            cells["cause"] = Text(
                printable(cause.short) if cause else "",  # node names: outside text
                style="bold red",
                overflow="ellipsis",
                no_wrap=True,
            )
        if health.stale:
            for t in cells.values():
                t.stylize("dim")
        return cells

    def _gpu_cell(self, model: str) -> Text:
        util = self._gpu_util.get(model)
        if util is None:
            return Text(NO_DATA, style="dim", justify="right")
        return Text(fmt_percent(util), justify="right")

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        """DataTable's cell, drawn without rich's general layout for the cells this table
        has: one line of `Text`, no wrapping. DataTable redraws every visible cell when
        any cell changes or focus moves (its caches are keyed on a global update count
        and the focus state), and rich's Padding and Styled layout per cell was most of a
        refresh's and of `g`'s time at 200 models. The lines are the ones DataTable would
        draw (tests/app/test_health_table.py compares them); any other cell goes its way."""
        if row_index < 0 or column_index < 0:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        if row_key is not None and row_key.value in self._pending:
            self._materialize(str(row_key.value))
        column_key = self._column_locations.get_key(column_index)
        cache_key = (
            row_key,
            column_key,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        cached = self._cell_render_cache.get(cache_key)
        if cached is not None:
            return cached
        cell = self._data.get(row_key, {}).get(column_key) if row_key is not None else None
        row = self.rows.get(row_key) if row_key is not None else None
        if not isinstance(cell, Text) or row is None or row.height != 1 or "\n" in cell.plain:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        fixed = row_index < self.fixed_rows or column_index < self.fixed_columns
        # Focus and theme change only the cursor's (and the hover's) colours: other cells
        # depend on their place, their Text and the table's base style alone.
        styled = cursor or hover
        state = (
            row_index, column_index, base_style, width, self.cell_padding, cursor, hover,
            fixed, self.show_cursor, self._show_hover_cursor,
            self._pseudo_class_state if styled else None, self.app.theme if styled else None,
        )  # fmt: skip
        drawn = self._drawn.get((row_key, column_key))
        if drawn is not None and drawn[0] is cell and drawn[1] == state:
            self._cell_render_cache[cache_key] = drawn[2]
            return drawn[2]  # type: ignore[return-value]
        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            fixed,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        pre_style = base_style + Style.from_meta({"row": row_index, "column": column_index})
        lines = [_cell_line(self.app.console, cell, width, self.cell_padding,
                            pre_style + component_style, post_style)]  # fmt: skip
        self._cell_render_cache[cache_key] = lines
        self._drawn[(row_key, column_key)] = (cell, state, lines)
        return lines

    def action_cycle_sort(self) -> None:
        self.sort_index = (self.sort_index + 1) % len(SORTS)
        self.post_message(self.SortChanged(self.sort_label))
        if self._snapshot is not None:
            self.show(self._snapshot, self._assessed)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if isinstance(event.row_key, RowKey) and event.row_key.value is not None:
            self.post_message(self.ModelSelected(event.row_key.value))


def _cell_line(
    console: Console, cell: Text, width: int, padding: int, pre: Style, post: Style
) -> list[Segment]:
    """One cell's line as rich draws ``Styled(Padding(cell, (0, padding)), pre, post)``
    on one line of ``width``: the text cut or padded to the width inside the padding by
    its own justify and overflow (rich's defaults otherwise), then every segment styled
    ``pre + its style + post``."""
    inner = max(width - 2 * padding, 0)
    segments = _plain_cell(console, cell, inner)
    if segments is None:
        lines = cell.wrap(
            console,
            inner,
            justify=cell.justify or "default",
            overflow=cell.overflow or "fold",
            tab_size=cell.tab_size or console.tab_size,
            no_wrap=True,
        )
        # Joined as rich joins the wrapped lines: the text's own style becomes a span (its
        # render leaves a spanless text's style out).
        segments = list(Text("\n").join(lines).render(console, end=""))
    used = sum(s.cell_length for s in segments)
    null = Style.null()
    line = [Segment(" " * padding, null)] if padding else []
    line += segments
    if used < inner:
        line.append(Segment(" " * (inner - used), null))
    if padding:
        line.append(Segment(" " * padding, null))
    return [Segment(s.text, pre + s.style + post if s.style else pre + post) for s in line]


def _plain_cell(console: Console, cell: Text, inner: int) -> list[Segment] | None:
    """What rich's wrap and render make of most cells (a figure, a name that fits: one
    style, no spans, shorter than the cell), without going through them; None for any
    other cell. Right-justified text loses its trailing spaces and is padded in its own
    style, as rich does it."""
    plain = cell.plain
    if not plain or cell.spans or "\n" in plain or "\t" in plain:
        return None
    if cell.justify == "right":
        plain = plain.rstrip()  # rich strips the end before it right-justifies
    elif cell.justify not in (None, "default"):
        return None
    length = cell_len(plain)
    if length > inner or not plain:
        return None
    style = console.get_style(cell.style) if cell.style else None
    if cell.justify == "right":
        plain = " " * (inner - length) + plain
    return [Segment(plain, style or None)]
