"""Label values are outside text: a model, node or pod name set by whoever deployed it
must never drive the terminal (escape sequences), never be read as markup (a crash, a
live action, lost brackets), and still say what it is. The gpu-oom demo is played with
its models renamed to hostile names, as a real Prometheus would hand them over."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from demo_app import frozen_demo_app, settle
from textual.widgets import Static

from tui.config import Slo
from tui.format import printable
from tui.headless import snapshot_table
from tui.model import HistoryPoint, Snapshot
from tui.sim.fleet import build_fleet
from tui.sim.scenarios import GpuOom
from widgets.cause_line import CauseLine
from widgets.health_table import HealthTable
from widgets.history_plots import HistoryPlots
from widgets.report_form import ReportForm

EVIL = "evil\x1b]0;pwned\x07\x1b[2J\x1b]52;c;cHduZWQ=\x07"
FLEET = build_fleet(12)
SICK = GpuOom().sick(FLEET).name
NAMES = {
    SICK: EVIL,
    FLEET.models[0].name: "crash[/]me",
    FLEET.models[1].name: "[@click=app.quit]x",
    FLEET.models[2].name: "x [beta]",
    FLEET.models[3].name: "zero\u200bwidth\u202e rlo\u2028line\u0085next",
}


class Renamed:
    """The demo source with its models renamed: what the cockpit would read from a
    Prometheus whose exporters carry these label values."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def refresh(self) -> Snapshot:
        snap = await self._inner.refresh()
        return replace(
            snap,
            models=tuple(replace(m, model=NAMES.get(m.model, m.model)) for m in snap.models),
            gpus=tuple(
                replace(g, model=NAMES.get(g.model, g.model), node=f"{g.node}\x1b[31m")
                for g in snap.gpus
            ),
            events=tuple(replace(e, model=NAMES.get(e.model, e.model)) for e in snap.events),
        )

    async def history(self) -> dict[str, list[HistoryPoint]]:
        points = await self._inner.history()
        return {NAMES.get(k, k): v for k, v in points.items()}


async def test_hostile_names_neither_drive_the_terminal_nor_read_as_markup() -> None:
    app = frozen_demo_app("gpu-oom", at_s=900, wrap=Renamed)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        assert app.is_running  # crash[/]me as a plot title no longer ends the cockpit
        table = app.query_one(HealthTable)
        shown = [table.get_cell(key.value, "model").plain for key in table.rows]
        for name in NAMES.values():
            assert printable(name) in shown or any(
                s.startswith(printable(name)[:10]) for s in shown
            ), name
        # Brackets are kept as written, not eaten as markup.
        assert "x [beta]" in shown and "[@click=app.quit]x" in shown
        # The worst model opens the history: its title is the inert name, in full.
        plots = app.query_one(HistoryPlots)
        assert plots.border_title is not None and "\x1b" not in plots.border_title
        assert "evil\\x1b]0;pwned" in plots.border_title
        cause = app.query_one(CauseLine).render()
        assert "\x1b" not in str(cause)
        # Nothing drawn anywhere carries a control character of a label.
        svg = app.export_screenshot()
        for byte in ("\x1b", "\x07", "\u2028", "\u0085", "\u202e"):
            assert byte not in svg, repr(byte)
        assert "pwned" in svg  # shown, inert
        # The report form's title names the sick model: drawn as text, not markup.
        await pilot.press("e")
        await settle(pilot)
        assert app.is_running
        assert isinstance(app.screen, ReportForm)
        title = str(app.screen.query_one("#rf-title", Static).render())
        assert "\x1b" not in title


def test_headless_text_output_is_inert() -> None:
    models = (
        replace_model("a", EVIL),
        replace_model("b", "zero\u200bwidth\u2028x"),
    )
    snap = Snapshot(
        taken_at=_when(),
        source="test\x1b]0;t\x07",
        models=models,
        aggregate=replace_model("(all models)", "(all models)"),
    )
    text = snapshot_table(snap, Slo())
    assert "\x1b" not in text and "\x07" not in text and "\u2028" not in text
    assert "evil\\x1b]0;pwned" in text


def replace_model(_old: str, new: str) -> Any:
    from tui.model import ModelHealth

    return ModelHealth(new, p99_s=1.0, rps=1.0, error_5xx_ratio=0.0, rate_429_ratio=0.0)


def _when() -> Any:
    from datetime import UTC, datetime

    return datetime(2026, 12, 7, tzinfo=UTC)
