"""The model table widget on its own, fed one snapshot of the frozen simulated fleet."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cockpit_pilot import TableOnly, gpu_oom_snapshot
from demo_app import AT_S, EPOCH
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable

from tui.clock import FrozenClock
from tui.domain.format import fmt_latency
from tui.sim.source import DemoSource
from widgets.health_table import HealthTable, _plain_cell


async def test_rows_read_in_full_from_the_first_paint() -> None:
    """Rows painted before the table goes idle show whole figures. Textual 8.2's DataTable
    measures auto-width columns only on idle and kept earlier lines at the header's width
    ("20." for "20.1%✖"); the table's columns have fixed widths so no paint can be early."""
    snapshot, sick = gpu_oom_snapshot()
    app = TableOnly()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(HealthTable)
        table.show(snapshot)
        row = [
            table.coordinate_to_cell_key((r, 0)).row_key.value for r in range(table.row_count)
        ].index(sick)
        # y 0 is the header, so the sick model's row is drawn at y = row + 1; no pause
        # between adding the rows and painting them.
        first = table.render_line(row + 1).text
        # At 80 columns the name column holds 20 cells: long names are cut in the middle.
        assert f"{sick[:9]}…{sick[-10:]}" in first
        assert "20.1%✖" in first
        assert "2.50s" in first
        await pilot.pause()
        assert table.render_line(row + 1).text == first
        assert "p99" in table.render_line(0).text


def cells(lines: list[list[Segment]]) -> list[list[tuple[str, Style | None]]]:
    """Each line as (character, full style) per cell: an empty segment draws nothing."""
    return [[(ch, s.style) for s in line for ch in s.text] for line in lines]


@pytest.mark.parametrize(
    "text",
    [
        Text("2.34s ", justify="right"),
        Text("9.99s✖", style="bold red", justify="right"),
        Text("–", style="dim", justify="right"),
        Text("✓", style="green"),
        Text("llama-3.1-8b", overflow="ellipsis", no_wrap=True),
        Text("a-name-too-long-for-its-cell", overflow="ellipsis", no_wrap=True),
        Text("left", justify="left"),
        Text("trailing ", style="bold"),
        Text("middle", justify="center"),
        Text(""),
        Text("   ", justify="right"),
        Text("two\nlines"),
        Text.assemble(("p99 ", "bold"), "3.2s"),
    ],
    ids=repr,
)
@pytest.mark.parametrize("inner", [4, 8, 24])
def test_a_plain_cell_is_what_rich_makes_of_it(text: Text, inner: int) -> None:
    """The shortcut for one-style cells, against rich's wrap and render; a cell it does
    not cover (None) goes rich's way."""
    console = Console()
    ours = _plain_cell(console, text, inner)
    lines = text.wrap(
        console,
        inner,
        justify=text.justify or "default",
        overflow=text.overflow or "fold",
        no_wrap=True,
    )
    theirs = list(Text("\n").join(lines).render(console, end=""))
    if ours is not None:
        assert ours == theirs


def test_the_plain_cell_shortcut_covers_the_figures() -> None:
    console = Console()
    assert _plain_cell(console, Text("2.34s ", justify="right"), 6) is not None
    assert _plain_cell(console, Text("llama", style="bold"), 24) is not None
    assert _plain_cell(console, Text("a-name-too-long", overflow="ellipsis"), 8) is None


@pytest.mark.parametrize("size", [(200, 50), (80, 24)])
async def test_cells_are_drawn_as_datatable_draws_them(size: tuple[int, int]) -> None:
    """The table draws its cells itself (one line of Text each); every visible cell, on
    the cursor row or not, the pinned aggregate, a stale row, focused and blurred, must be
    the segments DataTable's own path makes: same text, same styles, same metadata."""
    snapshot, _ = gpu_oom_snapshot()
    stale = replace(snapshot.models[3], stale=True)
    snapshot = replace(snapshot, models=(*snapshot.models[:3], stale, *snapshot.models[4:]))
    app = TableOnly()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        table = app.query_one(HealthTable)
        table.show(snapshot)
        table.move_cursor(row=2, animate=False)
        compared = 0
        for focused in (True, False):
            if focused:
                table.focus()
            else:
                table.blur()
            await pilot.pause()
            state = table.get_pseudo_class_state()
            table._pseudo_class_state = state
            base = table.rich_style
            for row in range(min(table.row_count, size[1] - 2)):
                for col, column in enumerate(table.ordered_columns):
                    width = column.get_render_width(table)
                    cursor = row == table.cursor_row
                    table._cell_render_cache.clear()
                    table._drawn.clear()
                    ours = table._render_cell(row, col, base, width, cursor)
                    table._cell_render_cache.clear()
                    theirs = DataTable._render_cell(table, row, col, base, width, cursor)
                    assert cells(ours) == cells(theirs), (row, column.key, focused)
                    compared += 1
        assert compared > 100


async def test_moving_focus_redraws_only_the_cursor_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """`g` takes focus away and back: the cells off the cursor row look the same either
    way, so only the cursor row's cells are drawn again, not every cell on screen."""
    import widgets.health_table as module

    snapshot, _ = gpu_oom_snapshot()
    app = TableOnly()
    async with app.run_test(size=(200, 50)) as pilot:
        table = app.query_one(HealthTable)
        table.show(snapshot)
        table.focus()
        await pilot.pause()
        assert table.row_count > 10
        drawn: list[str] = []
        real = module._cell_line

        def counting(console, cell, *args):  # type: ignore[no-untyped-def]
            drawn.append(cell.plain)
            return real(console, cell, *args)

        monkeypatch.setattr(module, "_cell_line", counting)
        for _ in range(2):
            table.blur()
            await pilot.pause()
            table.render_lines(table.region.reset_offset)
            assert 0 < len(drawn) <= len(table.columns), drawn
            drawn.clear()
            table.focus()
            await pilot.pause()
            table.render_lines(table.region.reset_offset)
            assert 0 < len(drawn) <= len(table.columns), drawn
            drawn.clear()


async def test_rows_off_screen_are_written_when_drawn_or_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At 200 models most rows are off screen and most change every refresh: a refresh
    builds the cells of the rows on screen only; the others show their new figures the
    moment they are scrolled to or read."""
    clock = FrozenClock(EPOCH + AT_S)
    source = DemoSource("gpu-oom", models=200, clock=clock, epoch=EPOCH, history_s=0.0)
    snapshot = source.refresh_now()
    app = TableOnly()
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one(HealthTable)
        table.show(snapshot)
        await pilot.pause()
        order = [table.coordinate_to_cell_key((r, 0)).row_key.value for r in range(201)]
        far = order[150]
        # The far row has been drawn once (DataTable keeps drawn rows), then left.
        table.move_cursor(row=150, animate=False)
        await pilot.pause()
        table.render_lines(table.region.reset_offset)
        table.move_cursor(row=0, animate=False)
        await pilot.pause()
        built: list[str] = []
        real = HealthTable._cells

        def counting(self: HealthTable, health):  # type: ignore[no-untyped-def]
            built.append(health.model)
            return real(self, health)

        monkeypatch.setattr(HealthTable, "_cells", counting)
        slower = tuple(replace(m, p99_s=(m.p99_s or 0) * 1.01) for m in snapshot.models)
        table.show(replace(snapshot, models=slower))
        assert 0 < len(built) <= 30 + 2 * 4, len(built)
        assert far not in built
        # Scrolled to, the far row is drawn with its new p99...
        table.move_cursor(row=150, animate=False)
        await pilot.pause()
        figure = fmt_latency(next(m.p99_s for m in slower if m.model == far))
        y = 150 - round(table.scroll_offset.y) + 1
        line = table.render_line(y).text
        assert far[:20] in line and figure in line, (far, figure, line)
        # ...and read, every row is current.
        row = table.get_row(order[120])
        assert fmt_latency(next(m.p99_s for m in slower if m.model == order[120])) in str(row[4])
        # Only the far row changes while off screen: nothing on screen moves the table's
        # update count, yet the row comes back with its new figure, not as drawn before.
        table.move_cursor(row=0, animate=False)
        await pilot.pause()
        only_far = tuple(replace(m, p99_s=3.21) if m.model == far else m for m in slower)
        table.show(replace(snapshot, models=only_far))
        table.move_cursor(row=table.get_row_index(far), animate=False)
        await pilot.pause()
        y = table.get_row_index(far) - round(table.scroll_offset.y) + 1
        assert "3.21s" in table.render_line(y).text
