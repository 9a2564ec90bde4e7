"""History of the selected model: p99, 5xx and 429 over the window, each with its SLO line.

Three small plots side by side rather than one with three axes: each signal has its own
unit and its own threshold, and a line crossing a red SLO line is what the eye must
catch. plotext draws with braille dots, which read well in a terminal over SSH.

A plot is redrawn every refresh, so it is drawn cheaply: plotext lays out its character
and colour matrices, and the widget turns those into lines itself (the Line API) rather
than having plotext write ANSI text for rich to parse back, which cost a refresh more
than the health table did.

Where a mitigation, a canary step or a rollback happened, each plot draws a dim dotted
column with a tag at its top (M, C, R), as Grafana draws its annotations: the line that
bends there can be read against what was done. The marks are plotext's own points,
the column drawn under the data and around the SLO line (which stays whole), so both
ways of drawing a plot agree on every cell.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from plotext import _utility as plotext_utility
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.containers import Horizontal
from textual.content import Content
from textual.strip import Strip
from textual_plotext import PlotextPlot

from tui.config import Slo
from tui.domain.annotations import Mark, plot_marks
from tui.domain.format import model_label
from tui.domain.model import HistoryPoint

PLOT_CHROME_ROWS = 4
"""Rows of a plot that are not its canvas: the title, the frame's top and bottom and the
x labels (plotext's ``height_canvas``)."""
MARK_COLOR = "blue"
"""Apart from the data (cyan) and the SLO line (red) on dark and light themes alike
(Textual's dark ANSI palette draws magenta as its red)."""
MARK_LINE = "┊"


def y_ticks(top: float, slo: float) -> list[float]:
    """Round ticks from 0 to ``top`` (steps of 1, 2, 2.5 or 5 times a power of ten), plus the
    SLO itself unless a tick sits close to it: the red line should meet a label that
    says its value, not a tick of 5.2 beside a line at 5."""
    raw = top / 4
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [i * step for i in range(int(top / step) + 1)]
    if all(abs(t - slo) > step / 3 for t in ticks):
        ticks.append(slo)
    return sorted(round(t, 10) for t in ticks)


def _hashable(color: Any) -> Any:
    return tuple(color) if isinstance(color, list) else color


@lru_cache(maxsize=512)
def cell_style(fullground: Any, style: Any, background: Any) -> Style:
    """A matrix cell's colours as a rich style: plotext's own ANSI for them, read by
    rich's decoder, once per combination (a plot has a handful)."""
    ansi = plotext_utility.colors_to_ansi(fullground, style, background)
    text = Text.from_ansi(f"{ansi}x{plotext_utility.ansi_end}")
    return Style.combine(s.style for s in text.spans if isinstance(s.style, Style))


def matrix_strips(matrix: Any, base: Style) -> list[Strip]:
    """plotext's matrix (row 0 at the bottom) as one strip per line, top first: runs of
    equal colours become one segment each, as plotext's own canvas would colour them,
    over ``base`` (the widget's own colours, as its text would have had)."""
    styles: dict[tuple[Any, Any, Any], Style] = {}
    strips: list[Strip] = []
    cols = matrix.cols
    for row in reversed(range(matrix.rows)):
        markers = matrix.marker[row]
        fg, st, bg = matrix.fullground[row], matrix.style[row], matrix.background[row]
        segments: list[Segment] = []
        start = 0
        for col in range(1, cols + 1):
            # Colours are compared in place (plotext's lists compare by value); a hashable
            # key is made once per run of equal colours, not once per cell.
            if col == cols or fg[col] != fg[start] or st[col] != st[start] or bg[col] != bg[start]:
                key = (_hashable(fg[start]), _hashable(st[start]), _hashable(bg[start]))
                style = styles.get(key)
                if style is None:
                    style = styles[key] = base + cell_style(*key)
                segments.append(Segment("".join(markers[start:col]), style))
                start = col
        # Offsets as Textual gives any widget's text (for selection): they also keep an
        # SVG export's runs short, which its renderers need to place braille exactly.
        strips.append(Strip(segments, cols).apply_offsets(0, len(strips)))
    return strips


class SignalPlot(PlotextPlot):
    DEFAULT_CSS = """
    SignalPlot { width: 1fr; height: 1fr; }
    """

    def __init__(self, field: str, title: str, scale: float, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.field = field
        self.title = title
        self.scale = scale
        """Multiplier from the stored unit to the plotted one (100 for ratios shown in %)."""
        self._drawn: list[Strip] = []
        self._drawn_for: tuple[object, ...] | None = None
        self._shown: tuple[object, ...] | None = None
        """What the last `show` plotted: the same again draws nothing."""
        self._version = 0
        self._laid_out: tuple[int, int] | None = None
        """The version and height the figure was last set up for (`_lay_out`)."""

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        theme = self._get_plotext_theme_name(self.app.theme)
        key = (width, height, theme, self._version)
        if key != self._drawn_for:
            self._drawn_for = key
            self._drawn = self._draw(width, height, theme) if self._shown is not None else []
        if y < len(self._drawn):
            return self._drawn[y]
        return Strip.blank(width, self.rich_style)

    def render(self) -> RenderResult:
        """textual-plotext's own render (plotext's ANSI text), of the same figure."""
        if self._shown is not None:
            self._lay_out(self.size.height)
        return super().render()

    def _draw(self, width: int, height: int, theme: str) -> list[Strip]:
        """What `PlotextPlot.render` does up to plotext's canvas (its size set twice, as
        there: plotext's resizing needs it), then the matrix straight to strips."""
        self._lay_out(height)
        plt = self.plt
        plt.plotsize(width, height)
        plt._set_size(width, height)
        plt.theme(theme)
        plt._set_sizes()
        plt._build_matrix()
        return matrix_strips(plt.monitor.matrix, self.rich_style)

    def show(
        self,
        points: Sequence[HistoryPoint],
        now: float,
        window_s: float,
        slo: float,
        marks: Sequence[Mark] = (),
    ) -> None:
        xs: list[float] = []
        ys: list[float] = []
        for p in points:
            value = getattr(p, self.field)
            if value is None:
                continue
            xs.append((p.at - now) / 60)
            ys.append(value * self.scale)
        shown = (tuple(xs), tuple(ys), window_s, slo, plot_marks(marks, now, window_s))
        if shown == self._shown:
            return
        self._shown = shown
        self._version += 1
        self.refresh()

    def _lay_out(self, height: int) -> None:
        """The figure for a plot ``height`` rows tall. The y axis runs to the highest
        point, but never so high that the SLO line would fall on the zero row (a 1 % line
        under a 20 % spike in eight rows): then it stops where the line sits a row above
        zero, the points above are drawn at the top edge and the title names the peak."""
        laid_out = (self._version, height)
        if laid_out == self._laid_out or self._shown is None:
            return
        self._laid_out = laid_out
        xs, ys, window_s, slo, marks = self._shown
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        limit = slo * self.scale
        peak = max(ys, default=0.0)
        top = max(peak * 1.1, limit * 1.25)
        # plotext draws a value v in row floor(0.5 + (rows - 1) * v / top) of the rows
        # its title, frame and x labels leave: under this top the line is in row 1 or up.
        rows = height - PLOT_CHROME_ROWS
        ceiling = limit * (rows - 1) * 1.5
        title = f"{self.title} (SLO {limit:g})"
        if limit > 0 and rows > 2 and top > ceiling:
            top = ceiling
            ys = tuple(min(y, top) for y in ys)
            title += f" max {peak:.3g}"
        plt.title(title)
        plt.xlim(-window_s / 60, 0)
        plt.ylim(0, top)
        ticks = y_ticks(top, limit)
        plt.yticks(ticks, [f"{t:g}" for t in ticks])
        plt.horizontal_line(limit, color="red")
        if marks and rows >= 2 and top > 0:
            # One point a row, each at its row's centre, under the tag's row and off the SLO
            # line's (plotext's row of v: floor(0.5 + (rows - 1) * v / top)).
            slo_row = math.floor(round(0.5 + (rows - 1) * limit / top, 8))
            column = [r * top / (rows - 1) for r in range(rows - 1) if r != slo_row]
            for x, _ in marks:
                plt.scatter([x] * len(column), column, marker=MARK_LINE, color=MARK_COLOR,
                            style="dim")  # fmt: skip
        if xs:
            # After the marks: where the line crosses a mark, the line is what shows.
            plt.plot(list(xs), list(ys), marker="braille", color="cyan")
        for x, tag in marks:
            # A point, not plotext's text, which paints its own background over the canvas.
            plt.scatter([x], [top], marker=tag, color=MARK_COLOR, style="bold")
        span = window_s / 60
        ticks = [-span, -span * 2 / 3, -span / 3, 0.0]
        plt.xticks(ticks, [f"-{abs(t):.0f}m" for t in ticks[:-1]] + ["now"])


class HistoryPlots(Horizontal):
    DEFAULT_CSS = """
    HistoryPlots {
        height: 1fr;
        min-height: 11;
        border-top: solid $primary-darken-2;
        border-title-align: left;
    }
    """

    def compose(self) -> ComposeResult:
        yield SignalPlot("p99_s", "p99 s", 1.0, id="plot-p99")
        yield SignalPlot("error_5xx_ratio", "5xx %", 100.0, id="plot-5xx")
        yield SignalPlot("rate_429_ratio", "429 %", 100.0, id="plot-429")

    def show(
        self,
        model: str,
        points: Sequence[HistoryPoint],
        now: float,
        window_s: float,
        slo: Slo,
        marks: Sequence[Mark] = (),
    ) -> None:
        """The model's history over ``window_s`` up to ``now``, with ``marks`` where
        something was done (`tui.domain.annotations`): a plot shown the same again draws nothing."""
        # Content, not a str: a str title is parsed as markup, and a model named
        # ``crash[/]me`` ended the cockpit with a MarkupError on every start.
        self.border_title = Content(f"history · {model_label(model)}")
        limits = {
            "p99_s": slo.p99_s,
            "error_5xx_ratio": slo.error_5xx_ratio,
            "rate_429_ratio": slo.rate_429_ratio,
        }
        for plot in self.query(SignalPlot):
            plot.show(points, now, window_s, limits[plot.field], marks)
