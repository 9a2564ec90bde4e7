"""Pilot tests (issue 22, item 24): a mitigation carried out from the cockpit is marked on
all three history plots at its time, as Grafana marks an annotation, and the line of
what is in force says what holds and since when; a canary drive marks its steps and its
rollback."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from cockpit_pilot import done, press, until
from demo_app import SteppedDrive, frozen_demo_app, settle
from kubernetes.client import ApiClient
from mitigation_rig import MODEL, app_for, choose
from textual.widgets import Button

from tui.app import WarroomApp
from tui.clock import utc
from tui.store.timeline import Timeline
from widgets.history_plots import MARK_LINE, SignalPlot
from widgets.in_force_line import InForceLine

SIZE = (120, 40)
PLOTS = ("#plot-p99", "#plot-5xx", "#plot-429")


def canvas(plot: SignalPlot) -> tuple[list[str], int, int]:
    """The plot's lines, and its canvas's first column and width (inside the frame)."""
    lines = [plot.render_line(y).text for y in range(plot.size.height)]
    top = next(line for line in lines if "┌" in line)
    start = top.index("┌") + 1
    return lines, start, top.index("┐") - start


def column_at(plot: SignalPlot, minutes_ago: float, window_min: float = 30.0) -> int:
    """Where plotext puts x = -``minutes_ago`` on an x axis of -window..0."""
    _, start, width = canvas(plot)
    return start + math.floor(round(0.5 + (width - 1) * (window_min - minutes_ago) / window_min, 8))


def marks_drawn(plot: SignalPlot) -> dict[int, str]:
    """Column -> tag of each mark on the plot: a tag on the canvas's top row above a
    dotted column."""
    lines, start, width = canvas(plot)
    first = next(i for i, line in enumerate(lines) if "┌" in line) + 1
    dotted = {c for line in lines for c in range(start, start + width) if line[c] == MARK_LINE}
    return {c: lines[first][c] for c in sorted(dotted)}


def in_force(app: WarroomApp) -> str | None:
    line = app.query_one(InForceLine)
    return line.render_line(0).text.strip() if line.display and line.region.height else None


def hm(ts: float) -> str:
    return f"{utc(ts):%H:%M}Z"


async def test_a_mitigation_is_marked_on_every_plot_and_said_in_force(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    app = app_for(api, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.selected == MODEL
        assert in_force(app) is None  # nothing done yet: no line
        assert all(marks_drawn(app.query_one(p, SignalPlot)) == {} for p in PLOTS)
        capped_at = app.clock.now()
        await press(pilot, "m")
        await choose(pilot, "batch-size-cap")
        app.screen.query_one("#ca-apply", Button).press()
        await done(pilot)
        # Marked at once, at "now": the plots' last column.
        plot = app.query_one("#plot-p99", SignalPlot)
        assert marks_drawn(plot) == {column_at(plot, 0): "M"}
        assert in_force(app) == f"in force: batch cap 16 on {MODEL} since {hm(capped_at)}"

        app.clock.at += 180  # type: ignore[attr-defined]
        fallback_at = app.clock.now()
        await press(pilot, "m")
        await choose(pilot, "fallback-on")
        app.screen.query_one("#ca-apply", Button).press()
        await done(pilot)

        app.clock.at += 120  # type: ignore[attr-defined]
        app.refresh_data()
        await settle(pilot)
        for selector in PLOTS:
            plot = app.query_one(selector, SignalPlot)
            assert marks_drawn(plot) == {column_at(plot, 5): "M", column_at(plot, 2): "M"}, selector
        assert in_force(app) == (
            f"in force: fallback on since {hm(fallback_at)} · "
            f"batch cap 16 on {MODEL} since {hm(capped_at)}"
        )

        # Another model's plots: the gateway's fallback is marked, the batch cap is not.
        await press(pilot, "down")
        assert app.selected != MODEL
        plot = app.query_one("#plot-5xx", SignalPlot)
        assert marks_drawn(plot) == {column_at(plot, 2): "M"}
        assert "batch cap" in (in_force(app) or "")  # the line is the incident's


async def test_a_canary_drive_marks_its_steps_and_its_rollback(tmp_path: Path) -> None:
    timeline = Timeline(tmp_path / "t.jsonl")
    drive = SteppedDrive(timeline)
    app = frozen_demo_app("bad-canary-p99", timeline=timeline, drive=drive)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, drive, "rolled-back", "failed")
        await pilot.press("escape")
        app.refresh_data()
        await settle(pilot)
        now = app.clock.now()
        stage = next(e for e in timeline.entries() if e["kind"] == "canary.stage")
        stage_at = utc(0).fromisoformat(stage["at"].replace("Z", "+00:00")).timestamp()
        plot = app.query_one("#plot-p99", SignalPlot)
        drawn = marks_drawn(plot)
        assert set(drawn.values()) == {"C", "R"}, drawn
        assert drawn[column_at(plot, 0)] == "R"  # rolled back just now
        assert drawn[column_at(plot, (now - stage_at) / 60)] == "C"
        assert in_force(app) is None  # a rollback is a moment, not a state
