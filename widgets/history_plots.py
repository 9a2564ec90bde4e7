"""History of the selected model: p99, 5xx and 429 over the window, each with its SLO line.

Three small plots side by side rather than one with three axes: each signal has its own
unit and its own threshold, and a line crossing a red SLO line is what the eye must
catch. plotext draws with braille dots, which read well in a terminal over SSH.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual_plotext import PlotextPlot

from tui.config import Slo
from tui.format import model_label
from tui.model import HistoryPoint


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

    def show(self, points: Sequence[HistoryPoint], now: float, window_s: float, slo: float) -> None:
        xs: list[float] = []
        ys: list[float] = []
        for p in points:
            value = getattr(p, self.field)
            if value is None:
                continue
            xs.append((p.at - now) / 60)
            ys.append(value * self.scale)
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        limit = slo * self.scale
        plt.title(f"{self.title} (SLO {limit:g})")
        plt.xlim(-window_s / 60, 0)
        top = max([*(y * 1.1 for y in ys), limit * 1.25])
        plt.ylim(0, top)
        ticks = y_ticks(top, limit)
        plt.yticks(ticks, [f"{t:g}" for t in ticks])
        plt.horizontal_line(limit, color="red")
        if xs:
            plt.plot(xs, ys, marker="braille", color="cyan")
        span = window_s / 60
        ticks = [-span, -span * 2 / 3, -span / 3, 0.0]
        plt.xticks(ticks, [f"-{abs(t):.0f}m" for t in ticks[:-1]] + ["now"])
        self.refresh()


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
        self, model: str, points: Sequence[HistoryPoint], now: float, window_s: float, slo: Slo
    ) -> None:
        self.border_title = f"history · {model_label(model)}"
        limits = {
            "p99_s": slo.p99_s,
            "error_5xx_ratio": slo.error_5xx_ratio,
            "rate_429_ratio": slo.rate_429_ratio,
        }
        for plot in self.query(SignalPlot):
            plot.show(points, now, window_s, limits[plot.field])
