"""How the cockpit draws on terminals other than a dark, UTF-8, colour one: a light
background, NO_COLOR, ASCII only, and the wall screen's layout.

Assertions read what the compositor would write to the terminal (every widget's lines
after the app's filters), not what widgets meant to draw."""

from __future__ import annotations

import pytest
from demo_app import frozen_demo_app, settle
from rich.cells import cell_len
from rich.text import Text
from textual.color import Color
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widgets import Static

from tui.app import WarroomApp
from tui.config import load_config
from tui.domain.severity import Level
from widgets.ascii import MARKS, ascii_char, ascii_key, to_ascii
from widgets.health_table import STYLE, SYMBOL, HealthTable

SICK = "codellama-34b-instruct"
"""The model gpu-oom makes sick: its row carries the breach mark."""


def screen_lines(app: WarroomApp) -> list[Strip]:
    return app.screen._compositor.render_strips()


def screen_text(app: WarroomApp) -> str:
    return "\n".join(strip.text for strip in screen_lines(app))


def display_app(scenario: str = "gpu-oom", models: int = 12, **display: object) -> WarroomApp:
    flags = {("display", key): value for key, value in display.items()}
    config = load_config(None, env={}, flags=flags)
    return frozen_demo_app(scenario, models=models, config=config)


# -- ASCII only ------------------------------------------------------------------------


def test_every_mark_keeps_its_width() -> None:
    for glyph in [*MARKS, "┌", "━", "╭", "╳", "⣿", "⠀", "é", "字", "\u0301"]:
        replacement = ascii_char(glyph)
        assert replacement.isascii()
        assert cell_len(replacement) == cell_len(glyph), glyph


def test_box_drawing_and_blocks_read_as_lines() -> None:
    assert to_ascii("┌──┬──┐") == "+--+--+"
    assert to_ascii("│ok│") == "|ok|"
    assert to_ascii("▁▂▃▄▅▆▇█") == "__--==##"
    assert to_ascii("20.1%✖ 0.21%✓ 3.1%▲") == "20.1%X 0.21%v 3.1%^"
    assert to_ascii("plain ascii") == "plain ascii"


def test_arrows_and_key_glyphs_read_as_words_where_the_line_has_room() -> None:
    # One cell each, ← and → read as comparisons: "5xx < model" says less-than.
    assert to_ascii("5xx ← codellama   ") == "5xx <- codellama  "
    assert to_ascii("⏎ Accept  ⌫ Back         ▏^p") == "enter Accept  bksp Back  |^p"
    # The room comes from the arrow's own column: never past a rule into the next one.
    assert to_ascii("│ ← → ↑ ↓   │ move   │") == "| <- -> ^ v | move   |"
    assert to_ascii("│ ← →│ move   │") == "| < >| move   |"
    assert to_ascii("yes→ → The") == "yes> > The"  # no room: the one-cell stand-in
    assert to_ascii("mem █≥95%  util") == "mem #>=95% util"
    for text in ("5xx ← codellama   ", "⏎ Accept  ⌫ Back         ▏^p", "│ ← → ↑ ↓   │ x"):
        assert cell_len(to_ascii(text)) == cell_len(text)
    # For a widget laying out keys itself: names at their own width.
    assert [ascii_key(k) for k in ("⏎", "⌫", "←", "^p", "esc")] == [
        "enter", "bksp", "left", "^p", "esc"]  # fmt: skip


async def test_ascii_arrows_and_keys_on_the_cause_line_key_line_and_help() -> None:
    seen = {}
    for width in (80, 120):  # at 80 the cause line says "5xx ← …"; at 120 every key fits
        app = display_app(ascii=True)
        async with app.run_test(size=(width, 30)) as pilot:
            await settle(pilot)
            seen[f"panes {width}"] = screen_text(app)
            for key, name in [("t", "runbook"), ("question_mark", "help")]:
                await pilot.press(key)
                await settle(pilot)
                seen[f"{name} {width}"] = screen_text(app)
                await pilot.press("escape")
                await settle(pilot)
    for name, text in seen.items():
        width = int(name.split()[-1])
        assert all(len(line) == width for line in text.splitlines()), name
    assert "5xx <- GPU OOM" in seen["panes 80"]  # the cause line; not "5xx < GPU OOM"
    keys = seen["runbook 120"].splitlines()[-1]
    assert "enter Accept" in keys and "bksp Back" in keys, keys
    # At 80 too: the keys are named at their own width, never "? Accept" beside "? Help".
    keys = seen["runbook 80"].splitlines()[-1]
    assert "? Accept" not in keys and "? Back" not in keys, keys
    assert "enter Accept" in keys, keys
    assert "<- -> ^ v" in seen["help 120"] and "<- -> ^ v" in seen["help 80"]


async def walk_screens(pilot: Pilot[object], app: WarroomApp) -> list[tuple[str, str]]:
    """The text of each screen an engineer reaches from the panes."""
    seen = [("panes", screen_text(app))]
    for key, name in [("g", "grid"), ("t", "runbook"), ("c", "canary"), ("question_mark", "help")]:
        await pilot.press(key)
        await settle(pilot)
        seen.append((name, screen_text(app)))
        await pilot.press("escape" if key != "g" else "g")
        await settle(pilot)
    return seen


async def test_ascii_mode_writes_nothing_but_ascii_on_any_screen() -> None:
    app = display_app(ascii=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screens = await walk_screens(pilot, app)
    for name, text in screens:
        strays = sorted({c for c in text if not c.isascii()})
        assert not strays, f"{name}: {strays}"
    panes = screens[0][1]
    row = next(line for line in panes.splitlines() if SICK in line)
    assert row.lstrip().startswith("X") and "%X" in row  # the breach still reads as one
    assert "S all models" in panes


async def test_without_ascii_mode_the_marks_are_unicode() -> None:
    # The counterpart: the walk above would pass on a cockpit that never drew a glyph.
    app = display_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        text = screen_text(app)
    assert "✖" in text and "─" in text and any(0x2800 < ord(c) <= 0x28FF for c in text)


# -- themes and NO_COLOR -----------------------------------------------------------------


def contrast(fg: Color, bg: Color) -> float:
    """WCAG contrast ratio: 4.5 reads as body text, 3 as large or bold text."""
    # Not Color.brightness (perceived brightness): WCAG's ratio is of relative luminance.
    lum = [_luminance(c) for c in (fg, bg)]
    lighter, darker = max(lum), min(lum)
    return (lighter + 0.05) / (darker + 0.05)


def _luminance(color: Color) -> float:
    def channel(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)


def mark_colours(app: WarroomApp, marks: str) -> dict[str, tuple[Color, Color]]:
    """Foreground and background of the first cell holding each of ``marks``."""
    found: dict[str, tuple[Color, Color]] = {}
    for strip in screen_lines(app):
        for segment in strip:
            text, style = segment.text, segment.style
            for mark in marks:
                if mark in text and mark not in found and style and style.color:
                    found[mark] = (
                        Color.from_rich_color(style.color),
                        Color.from_rich_color(style.bgcolor),
                    )
    return found


SWATCH = [
    *((SYMBOL[level], STYLE[level]) for level in Level),  # the health table's marks
    *(("x", colour) for colour in ("red", "green", "yellow", "cyan", "bold red")),  # the rest
]


# The two the cockpit promises (dark and light); the other Textual themes are offered as
# they come, and the ansi-* ones draw with the terminal's own palette, its user's choice.
@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
async def test_every_status_colour_reads_on_the_theme_background(theme: str) -> None:
    # Every colour the widgets name, one mark each, in the cockpit on the theme.
    app = display_app(theme=theme)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        swatch = Static(Text.assemble(*[(f"{m}{i}", style) for i, (m, style) in enumerate(SWATCH)]))
        await app.screen.mount(swatch, before=0)
        await settle(pilot)
        cells = [
            (segment.text, segment.style)
            for segment in screen_lines(app)[swatch.region.y]
            if segment.style and segment.text.strip()
        ]
    assert len(cells) >= len(SWATCH), cells
    for text, style in cells:
        assert style is not None and style.color is not None and style.bgcolor is not None
        fg, bg = Color.from_rich_color(style.color), Color.from_rich_color(style.bgcolor)
        if style.dim:  # the no-data mark and notes: Textual blends dim text into the background
            fg = bg.blend(fg, 0.66)
        ratio = contrast(fg, bg)
        assert ratio >= 3.0, f"{text!r} {fg.hex} on {bg.hex}: {ratio:.2f} in {theme}"


async def test_no_color_leaves_only_greys_and_keeps_the_marks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = display_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        lines = screen_lines(app)
    assert app.no_color
    colours = {
        Color.from_rich_color(c)
        for strip in lines
        for segment in strip
        if segment.style
        for c in (segment.style.color, segment.style.bgcolor)
        if c is not None
    }
    assert colours and all(c.r == c.g == c.b for c in colours), sorted(c.hex for c in colours)
    text = "\n".join(s.text for s in lines)
    assert "✖" in text and "✓" in text  # what colour said, the marks still say


def test_an_unknown_theme_is_one_sentence_naming_the_choices() -> None:
    from tui.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        load_config(None, env={"WARROOM_THEME": "pink"})
    message = str(caught.value)
    assert "\n" not in message and "'pink' is not a theme" in message and "light" in message


# -- the wall screen -------------------------------------------------------------------


async def test_wall_layout_gives_the_plots_the_room_and_drops_the_details() -> None:
    heights = {}
    for wall in (False, True):
        app = display_app(models=60, wall=wall)  # more models than the screen has rows
        async with app.run_test(size=(200, 50)) as pilot:
            await settle(pilot)
            heights[wall] = app.query_one("#history").size.height
            shown = {w: app.query_one(w).display for w in ("#keys", "#gpu-detail", "KeyHints")}
            columns = [str(c.label) for c in app.query_one(HealthTable).columns.values()]
            text = screen_text(app)
        if wall:
            assert not any(shown.values()), shown
            assert "p50" not in columns and "p99" in columns and "5xx" in columns
            assert "Mitigate" not in text
        else:
            assert all(shown.values()), shown
            assert "p50" in columns
    assert heights[True] >= heights[False] + 8, heights
