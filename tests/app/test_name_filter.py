"""`/` filters the health table by name, as in k9s (issue 22, item 23): the pure filter,
then the cockpit at 200 models."""

from __future__ import annotations

from datetime import UTC, datetime

from demo_app import frozen_demo_app, settle
from textual.pilot import Pilot
from textual.widgets import Input, Static

from tui.app import WarroomApp
from tui.domain.model import AGGREGATE, ModelHealth, Snapshot
from tui.domain.name_filter import matches, narrowed, summary
from widgets.filter_bar import FilterBar
from widgets.health_table import HealthTable

SIZE = (120, 40)


def snapshot(*names: str) -> Snapshot:
    return Snapshot(
        taken_at=datetime(2026, 1, 1, tzinfo=UTC),
        source="test",
        models=tuple(ModelHealth(model=n) for n in names),
        aggregate=ModelHealth(model=AGGREGATE),
    )


# -- the pure filter ------------------------------------------------------------------


def test_a_name_matches_on_any_part_whatever_the_case() -> None:
    assert matches("Llama-3.1-8B-Instruct", "8b-inst")
    assert matches("llama-3.1-8b-instruct", "LLAMA")
    assert not matches("qwen2.5-72b", "llama")
    assert matches("qwen2.5-72b", "")
    assert matches("qwen2.5-72b", "  72b ")  # the spaces around a typed word are no part


def test_the_snapshot_keeps_the_matching_models_and_the_aggregate() -> None:
    snap = snapshot("llama-8b", "qwen-72b", "codellama-34b")
    narrow = narrowed(snap, "LLAMA")
    assert [m.model for m in narrow.models] == ["llama-8b", "codellama-34b"]
    assert narrow.aggregate is snap.aggregate
    assert narrow.models[0] is snap.models[0]  # the rows themselves, not copies
    assert narrowed(snap, "") is snap and narrowed(snap, "   ") is snap
    assert narrowed(snap, "nothing").models == ()


def test_the_summary_names_the_text_and_the_count() -> None:
    assert summary("xyz", 3, 200) == "filter: xyz (3 of 200)"
    # The typed text is outside text on a terminal: inert.
    assert summary("a\x1b[2Jb", 0, 200) == "filter: a\\x1b[2Jb (0 of 200)"


# -- in the cockpit -------------------------------------------------------------------


def rows(app: WarroomApp) -> list[str]:
    table = app.query_one(HealthTable)
    return [
        table.coordinate_to_cell_key((row, 0)).row_key.value or "" for row in range(table.row_count)
    ]


def bar_text(app: WarroomApp) -> str:
    bar = app.query_one(FilterBar)
    return bar.text if bar.display else ""


async def typed(pilot: Pilot[object], text: str) -> None:
    await pilot.press(*text)
    await settle(pilot)


async def test_slash_narrows_200_models_and_enter_keeps_it() -> None:
    app = frozen_demo_app("gpu-oom", models=200)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert len(rows(app)) == 201
        assert bar_text(app) == ""
        names = [m.model for m in app.tracker.current.models]  # type: ignore[union-attr]
        wanted = {n for n in names if "acme" in n}

        await pilot.press("slash")
        await pilot.pause()
        assert isinstance(app.focused, Input)
        await typed(pilot, "ACME")
        shown = rows(app)
        assert shown[0] == AGGREGATE  # the Σ row stays
        assert set(shown[1:]) == wanted
        assert bar_text(app).startswith(f"filter: ACME ({len(wanted)} of 200)")
        # The selected model (the sick one) is filtered out: the plots follow the row
        # the cursor is on now.
        assert app.selected == app.query_one(HealthTable).selected_model
        assert app.selected in wanted

        await pilot.press("enter")
        await settle(pilot)
        assert app.focused is app.query_one(HealthTable)
        assert set(rows(app)[1:]) == wanted
        assert bar_text(app).startswith(f"filter: ACME ({len(wanted)} of 200)")
        # The table's own keys work on the narrowed rows; a refresh keeps the filter.
        await pilot.press("down")
        await pilot.press("r")
        await settle(pilot)
        assert set(rows(app)[1:]) == wanted
        assert app.selected in wanted

        # Escape on the panes clears the kept filter.
        await pilot.press("escape")
        await settle(pilot)
        assert len(rows(app)) == 201
        assert bar_text(app) == ""


async def test_escape_in_the_field_clears_and_closes() -> None:
    app = frozen_demo_app("gpu-oom", models=200)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await typed(pilot, "llama-3.1-8b")
        assert 1 < len(rows(app)) < 201
        await pilot.press("escape")
        await settle(pilot)
        assert len(rows(app)) == 201
        assert bar_text(app) == ""
        assert app.focused is app.query_one(HealthTable)
        # The keys are the cockpit's again: `q` is no longer typed into a field.
        await pilot.press("slash")
        await typed(pilot, "q")
        assert app.is_running
        assert bar_text(app).startswith("filter: q (")


async def test_typed_text_is_drawn_inert() -> None:
    app = frozen_demo_app("gpu-oom", models=200)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await typed(pilot, "[b]x")
        assert rows(app) == [AGGREGATE]  # nothing matches, the Σ row stays
        assert bar_text(app).startswith("filter: [b]x (0 of 200)")
        await pilot.press("enter")
        await settle(pilot)
        line = app.query_one("#filter-summary", Static).render_line(0).text
        assert "filter: [b]x (0 of 200)" in line
