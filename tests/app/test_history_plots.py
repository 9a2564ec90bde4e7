"""The history plots draw plotext's matrix straight into lines: what reaches the terminal
must be, cell for cell, what textual-plotext's own render (plotext's ANSI text parsed by
rich) would have put there, on every theme; a plotext upgrade that moves its matrix
fails here rather than on a wall screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from demo_app import AT_S, EPOCH, frozen_demo_app, settle
from rich.segment import Segment
from textual.app import App, ComposeResult
from textual.strip import Strip
from textual.widget import Widget

from tui.clock import utc
from tui.config import load_config
from tui.domain.annotations import Mark
from tui.domain.model import HistoryPoint
from tui.store.timeline import Timeline
from widgets.history_plots import MARK_LINE, SignalPlot

Cell = tuple[str, str | None, str | None, bool]


def cells(lines: list[list[Strip]]) -> list[list[Cell]]:
    """Each screen line as (character, colour, background, bold) per cell."""
    out = []
    for line in lines:
        row: list[Cell] = []
        segments: list[Segment] = [s for strip in line for s in strip]
        for seg in segments:
            style = seg.style
            for ch in seg.text:
                row.append(
                    (
                        ch,
                        str(style.color) if style and style.color else None,
                        str(style.bgcolor) if style and style.bgcolor else None,
                        bool(style and style.bold),
                    )
                )
        out.append(row)
    return out


async def screen_cells(
    scenario: str, size: tuple[int, int], theme: str, timeline: Timeline | None = None
) -> list[list[Cell]]:
    config = load_config(None, env={"WARROOM_THEME": theme})
    app = frozen_demo_app(scenario, config=config, timeline=timeline)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert app.query_one("#plot-p99", SignalPlot).region.height > 0
        return cells(app.screen._compositor.render_full_update().strips)


@pytest.mark.parametrize("theme", ["dark", "light"])
@pytest.mark.parametrize(("scenario", "size"), [("gpu-oom", (200, 50)), ("healthy", (120, 40))])
async def test_plots_paint_what_plotext_text_would(
    monkeypatch: pytest.MonkeyPatch, scenario: str, size: tuple[int, int], theme: str
) -> None:
    fast = await screen_cells(scenario, size, theme)
    # textual-plotext's path: `PlotextPlot.render`, plotext's canvas as ANSI text.
    monkeypatch.setattr(SignalPlot, "render_line", Widget.render_line)
    slow = await screen_cells(scenario, size, theme)
    assert len(fast) == len(slow) == size[1]
    differing = [
        (y, x, a, b)
        for y, (row_a, row_b) in enumerate(zip(fast, slow, strict=True))
        for x, (a, b) in enumerate(zip(row_a, row_b, strict=True))
        if a != b
    ]
    assert differing == []
    # The plots are on screen with a line in them, not blank on both sides.
    assert any("⠀" < ch <= "⣿" for row in fast for ch, *_ in row)


def marked_timeline(path: Path) -> Timeline:
    """A fallback turned on 5 minutes ago, a canary stage 12 and a rollback 20, as the
    actions and the canary driver write them (issue 22, item 24)."""
    now = EPOCH + AT_S
    timeline = Timeline(path)
    timeline.append("action.succeeded", utc(now - 1200), mitigation="rollout-undo",
                    model="codellama-34b-instruct", title="Roll back to the previous revision",
                    changes=[])  # fmt: skip
    timeline.append("canary.stage", utc(now - 720), stage_pct=25, stage=1)
    timeline.append("action.succeeded", utc(now - 300), mitigation="fallback-on", model=None,
                    changes=[{"object": "Deployment inference/llm-gateway",
                              "field": "env FALLBACK_ENABLED (container main)",
                              "old": "(unset)", "new": "true"}])  # fmt: skip
    return timeline


@pytest.mark.parametrize("theme", ["dark", "light"])
async def test_plots_with_marks_paint_what_plotext_text_would(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, theme: str
) -> None:
    """The marks are plotext's own points: both ways of drawing agree on them too."""
    timeline = marked_timeline(tmp_path / "t.jsonl")
    fast = await screen_cells("gpu-oom", (200, 50), theme, timeline)
    monkeypatch.setattr(SignalPlot, "render_line", Widget.render_line)
    slow = await screen_cells("gpu-oom", (200, 50), theme, timeline)
    assert fast == slow
    text = ["".join(ch for ch, *_ in row) for row in fast]
    assert sum(line.count(MARK_LINE) for line in text) > 3 * 3 * 5  # 3 marks x 3 plots
    tags = "".join(c for line in text for c in line if c in "MCR")
    assert any(line.count("R") >= 3 and line.count("C") >= 3 for line in text), tags


async def test_a_plot_shown_the_same_marks_draws_nothing_new() -> None:
    app = frozen_demo_app("healthy")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        plot = app.query_one("#plot-p99", SignalPlot)
        points = [HistoryPoint(1000.0 + 10 * i, 1.0 + i % 3, None, None) for i in range(30)]
        marks = [Mark(1200.0, "fallback on", "M")]
        plot.show(points, 1300.0, 600.0, 2.0, marks)
        await settle(pilot)
        drawn = plot._drawn
        plot.show(points, 1300.0, 600.0, 2.0, list(marks))
        await settle(pilot)
        assert plot._drawn is drawn
        assert any(MARK_LINE in strip.text for strip in drawn)
        plot.show(points, 1300.0, 600.0, 2.0, [*marks, Mark(1250.0, "canary 5 %", "C")])
        await settle(pilot)
        assert plot._drawn is not drawn


async def test_a_plot_shown_the_same_points_draws_nothing_new() -> None:
    app = frozen_demo_app("healthy")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        plot = app.query_one("#plot-p99", SignalPlot)
        points = [HistoryPoint(1000.0 + 10 * i, 1.0 + i % 3, None, None) for i in range(30)]
        plot.show(points, 1300.0, 600.0, 2.0)
        await settle(pilot)
        drawn = plot._drawn
        plot.show(points, 1300.0, 600.0, 2.0)
        await settle(pilot)
        assert plot._drawn is drawn
        plot.show(points[:-1], 1300.0, 600.0, 2.0)
        await settle(pilot)
        assert plot._drawn is not drawn


# -- the SLO line at its value (issue 22, item 17) ----------------------------------------


def slo_and_zero_rows(plot: SignalPlot) -> tuple[list[str], list[str]]:
    """The y labels of the rows the red SLO line is drawn on, and of the zero row."""
    slo_rows, zero_rows = [], []
    for y in range(plot.size.height):
        strip = plot.render_line(y)
        label = strip.text.split("┤")[0].split("├")[0].strip()
        red = any(
            "─" in s.text and s.style and s.style.color and s.style.color.number == 1 for s in strip
        )
        if red:
            slo_rows.append(label or f"row {y}")
        if label == "0":
            zero_rows.append(label)
    return slo_rows, zero_rows


async def test_the_5xx_slo_line_is_drawn_above_the_zero_row_at_80x24() -> None:
    """gpu-oom's 5xx reaches 20 % against a 1 % SLO: in the few rows an 80x24 plot has,
    the line fell on the zero row, where it read as "no errors"."""
    app = frozen_demo_app("gpu-oom")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        plot = app.query_one("#plot-5xx", SignalPlot)
        slo_rows, zero_rows = slo_and_zero_rows(plot)
        assert zero_rows == ["0"]
        assert slo_rows == ["1"], slo_rows  # its own row, labelled with its value
        assert "max 20" in plot.render_line(0).text  # the peak off the axis is named


class OnePlot(App[None]):
    def compose(self) -> ComposeResult:
        yield SignalPlot("error_5xx_ratio", "5xx %", 100.0, id="plot")


@pytest.mark.parametrize("height", [7, 8, 9, 11, 14, 18, 24, 32])
async def test_the_slo_line_has_its_own_row_at_every_height(height: int) -> None:
    app = OnePlot()
    async with app.run_test(size=(40, height)) as pilot:
        plot = app.query_one(SignalPlot)
        # Quiet at 0.1 %, then a 20 % spike: twenty times the 1 % SLO.
        points = [HistoryPoint(1000.0 + 60 * i, None, 0.001, None) for i in range(20)]
        points += [HistoryPoint(2200.0 + 60 * i, None, 0.2, None) for i in range(10)]
        plot.show(points, 2800.0, 1800.0, 0.01)
        await pilot.pause()
        slo_rows, zero_rows = slo_and_zero_rows(plot)
        assert zero_rows == ["0"]
        assert len(slo_rows) == 1 and slo_rows != zero_rows, slo_rows
        title = plot.render_line(0).text
        # A plot tall enough draws the spike whole; a shorter one tops out and says so.
        tops_out = (height - 4 - 1) * 1.5 < 20 * 1.1  # rows under the line x 1.5 % each
        assert ("max 20" in title) == tops_out, title
