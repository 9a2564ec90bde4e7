"""Label values are outside text: a model, node or pod name set by whoever deployed it
must never drive the terminal (escape sequences), never be read as markup (a crash, a
live action, lost brackets), and still say what it is. The gpu-oom demo is played with
its models renamed to hostile names, as a real Prometheus would hand them over."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from demo_app import frozen_demo_app, settle
from textual.widgets import Static

from tui.cli.snapshot import snapshot_table
from tui.config import Slo
from tui.domain.assessed import Assessed
from tui.domain.format import printable
from tui.domain.model import HistoryPoint, Snapshot
from tui.sim.fleet import build_fleet
from tui.sim.scenarios import GpuOom
from widgets.cause_line import CauseLine
from widgets.health_table import HealthTable
from widgets.history_plots import HistoryPlots
from widgets.screens.report_form import ReportForm

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
    text = snapshot_table(Assessed.build(snap, Slo()))
    assert "\x1b" not in text and "\x07" not in text and "\u2028" not in text
    assert "evil\\x1b]0;pwned" in text


def replace_model(_old: str, new: str) -> Any:
    from tui.domain.model import ModelHealth

    return ModelHealth(new, p99_s=1.0, rps=1.0, error_5xx_ratio=0.0, rate_429_ratio=0.0)


def _when() -> Any:
    from datetime import UTC, datetime

    return datetime(2026, 12, 7, tzinfo=UTC)


def _agreed_width(text: str) -> int:
    """The cells ``text`` takes by Unicode's East Asian Width, which terminals go by:
    what a row's cell must measure for the terminal to draw it where Textual laid it."""
    import unicodedata

    def one(ch: str) -> int:
        if unicodedata.category(ch) in ("Mn", "Me"):
            return 0
        return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1

    return sum(one(ch) for ch in text)


def test_every_character_is_drawn_as_wide_as_terminals_count_it() -> None:
    """Textual lays rows out by rich's width table, the terminal by its own: a character
    the two count differently (``❤️`` is 2 cells to rich, 1 to tmux over glibc) shifts the
    rest of its row under the wrong column. Whatever a label holds, what is drawn of it
    measures the same in both."""
    from rich.cells import cell_len

    disputed = []
    for code in (*range(0x20, 0x40000), *range(0xE0000, 0xE01F0)):
        ch = chr(code)
        shown = printable(ch)
        if cell_len(shown) != _agreed_width(shown):
            disputed.append(f"U+{code:04X}")
    assert disputed == []
    # The sequences terminals join or split each their own way are drawn apart.
    joined_ones = ("\u2764\ufe0f", "\U0001f1fa\U0001f1f8", "1\ufe0f\u20e3", "\U0001f44b\U0001f3fd")
    for joined in joined_ones:
        shown = printable(joined)
        assert cell_len(shown) == _agreed_width(shown), joined
    # Wide letters and plain accents are names, kept as they are.
    assert printable("模型-七十亿") == "模型-七十亿"
    assert printable("e\u0301clair") == "e\u0301clair"
    assert printable("\U0001f916bot") == "\U0001f916bot"


WIDE = {
    SICK: "模型-七十亿-chat",
    FLEET.models[0].name: "\U0001f916bot",
    FLEET.models[1].name: "heart\u2764\ufe0f-vs16",
    FLEET.models[2].name: "\uff46\uff55\uff4c\uff4c",  # fullwidth Latin
    FLEET.models[3].name: "flag\U0001f1fa\U0001f1f8",
    FLEET.models[4].name: "hangul\u3164filler",
    FLEET.models[5].name: "\u0915\u093e-mc",  # Devanagari with a spacing mark
}


async def test_wide_names_leave_every_row_under_its_columns(monkeypatch: Any) -> None:
    """With wide, joined and zero-width-in-one-table characters in model names, every row
    of the health table measures the same in the terminal's count as in Textual's."""
    monkeypatch.setattr(__import__(__name__), "NAMES", WIDE)
    app = frozen_demo_app("gpu-oom", at_s=900, wrap=Renamed)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        table = app.query_one(HealthTable)
        shown = [table.get_cell(key.value, "model").plain for key in table.rows]
        assert any("模型" in s for s in shown) and any("\U0001f916" in s for s in shown)
        lines = app.export_screenshot()
        assert "\ufe0f" not in lines and "\U0001f1fa" not in lines
        widths = {_agreed_width(row) for row in _table_rows(app)}
        assert len(widths) == 1, widths


def _table_rows(app: Any) -> list[str]:
    """The health table's rows as the screen holds them, one string a row."""
    table = app.query_one(HealthTable)
    rows = []
    for y in range(1, table.row_count + 1):  # under the header
        strip = table.render_line(y)
        rows.append("".join(segment.text for segment in strip))
    return rows
