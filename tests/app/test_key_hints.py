"""The key line at the bottom: the focused pane's keys and the cockpit's, whole or not at
all, the command palette's key on the right."""

from __future__ import annotations

import pytest
from demo_app import frozen_demo_app, settle

from widgets.health_table import HealthTable
from widgets.key_hints import KeyHints
from widgets.rows_out_of_view import RowsOutOfView


def descriptions(app) -> list[str]:  # type: ignore[no-untyped-def]
    hints, _ = app.query_one(KeyHints).hints
    return [description for _, description, _ in hints]


async def test_the_keys_follow_the_focused_pane() -> None:
    app = frozen_demo_app("gpu-oom")
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        assert "Sort" in descriptions(app) and "Next event" not in descriptions(app)
        await pilot.press("g")
        await settle(pilot)
        assert {"Next event", "Filter model"} <= set(descriptions(app))
        assert "Sort" not in descriptions(app)
        line = app.query_one(KeyHints).render_line(0).text
        assert " e Next event " in line and line.rstrip().endswith("^p palette")
        await pilot.press("g")
        await settle(pilot)
        assert "Sort" in descriptions(app)


@pytest.mark.parametrize("width", [80, 60])
async def test_a_narrow_line_drops_whole_keys_and_keeps_the_palette(width: int) -> None:
    app = frozen_demo_app("healthy")
    async with app.run_test(size=(width, 24)) as pilot:
        await settle(pilot)
        line = app.query_one(KeyHints).render_line(0).text
        assert len(line) == width
        assert line.rstrip().endswith("^p palette")
        shown = [d for d in descriptions(app) if f" {d} " in line]
        assert shown and "Mitigate" in shown
        # What does not fit is gone whole: no key without its description before the rule.
        before_rule = line.split("▏")[0].rstrip()
        assert before_rule.endswith(shown[-1])


@pytest.mark.parametrize("scenario", ["gpu-oom", "healthy"])
async def test_at_80_columns_the_line_keeps_the_keys_that_act(scenario: str) -> None:
    """Issue 22, item 17: at 80x24 the line lost `c` and `e`. Whatever does not fit goes
    lowest first: mitigate, report, canary, runbook, quit and help stay."""
    app = frozen_demo_app(scenario)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        line = app.query_one(KeyHints).render_line(0).text
        for hint in (" m Mitigate ", " e Report ", " c Canary ", " t Runbook ", " q Quit ",
                     " ? Help "):  # fmt: skip
            assert hint in line, (hint, line)
        assert line.rstrip().endswith("^p palette")
        # Shown in the order the keys are bound, whatever was dropped between them.
        order = [d for d in descriptions(app) if f" {d} " in line]
        assert order == [d for d in descriptions(app) if d in order]


def below_text(app) -> str:  # type: ignore[no-untyped-def]
    label = app.query_one(RowsOutOfView)
    return str(label.render()).strip() if label.display else ""


async def test_at_80x24_the_rows_below_the_table_are_counted() -> None:
    """Issue 22, item 17: 7 of 13 rows show at 80x24 with a sliver of scrollbar; a line
    under the table says how many more there are, and follows the scrolling."""
    app = frozen_demo_app("gpu-oom")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.query_one(HealthTable)
        rows_seen = table.scrollable_content_region.height - 1  # less the header
        hidden = table.row_count - rows_seen
        assert hidden > 0
        assert below_text(app) == f"{hidden} more ↓"
        # The line under the table takes its row from the table, not from the plots.
        assert app.query_one("#detail").size.height >= 13
        await pilot.press("ctrl+end")  # the last row
        await settle(pilot)
        assert below_text(app) == f"{hidden} above ↑"
        await pilot.press("ctrl+home", "down", "down")
        await settle(pilot)
        assert below_text(app) == f"{hidden} more ↓"


async def test_when_every_row_shows_nothing_is_counted() -> None:
    app = frozen_demo_app("gpu-oom")
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        assert app.query_one(HealthTable).max_scroll_y == 0
        assert below_text(app) == ""
