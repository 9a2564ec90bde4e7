"""Pilot tests: what each key does to the cockpit, over the frozen simulated fleet."""

from __future__ import annotations

from collections.abc import Callable

from cockpit_pilot import REFUSED, Counting, FailsAfterFirst, advance, row_order, sick_model
from demo_app import settle
from textual.widgets import Markdown

from tui.app import WarroomApp
from tui.domain.model import AGGREGATE, ModelHealth
from widgets.health_table import SORTS, HealthTable
from widgets.history_plots import HistoryPlots
from widgets.screens.help_screen import HelpScreen
from widgets.status_bar import StatusBar

AppFactory = Callable[..., WarroomApp]
SIZE = (120, 40)


def counting(app: WarroomApp) -> Counting:
    assert isinstance(app.source, Counting)
    return app.source


def status(app: WarroomApp) -> str:
    return str(app.query_one(StatusBar).render())


def history_title(app: WarroomApp) -> str:
    return str(app.query_one(HistoryPlots).border_title)


def shown(app: WarroomApp) -> dict[str, ModelHealth]:
    """What the screen shows now, by model: the tracker's current snapshot."""
    snapshot = app.tracker.current
    assert snapshot is not None
    return {m.model: m for m in (snapshot.aggregate, *snapshot.models)}


async def test_opens_on_the_worst_model_under_the_aggregate(make_app: AppFactory) -> None:
    app = make_app("gpu-oom")
    sick = sick_model(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.query_one(HealthTable)
        order = row_order(table)
        assert order[0] == AGGREGATE
        assert order[1] == sick
        assert str(table.get_row_at(0)[1]) == "Σ all models"
        assert table.cursor_row == 1
        assert table.selected_model == sick
        assert app.selected == sick
        assert history_title(app) == f"history · {sick}"
        assert "1/12 breaching" in status(app)
        assert "0s old" in status(app)
        assert "STALE" not in status(app)


async def test_healthy_fleet_has_nothing_breaching(make_app: AppFactory) -> None:
    app = make_app("healthy")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.query_one(HealthTable)
        assert table.row_count == 13
        assert row_order(table)[0] == AGGREGATE
        assert "0/12 breaching" in status(app)
        assert all(str(table.get_row_at(r)[0]) == "✓" for r in range(table.row_count))


async def test_arrows_move_the_selection_and_the_plots_follow(make_app: AppFactory) -> None:
    app = make_app("gpu-oom")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.query_one(HealthTable)
        order = row_order(table)

        await pilot.press("down")
        await pilot.pause()
        assert table.cursor_row == 2
        assert app.selected == order[2]
        assert history_title(app) == f"history · {order[2]}"

        await pilot.press("up", "up")
        await pilot.pause()
        assert table.cursor_row == 0
        assert app.selected == AGGREGATE
        assert history_title(app) == "history · Σ all models"

        await pilot.press("down")
        await pilot.pause()
        assert app.selected == order[1] == sick_model(app)
        assert history_title(app) == f"history · {order[1]}"


async def test_s_cycles_the_sort_and_back_to_severity(make_app: AppFactory) -> None:
    app = make_app("gpu-oom")
    sick = sick_model(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.query_one(HealthTable)
        by_severity = row_order(table)
        assert "sort" not in status(app)

        await pilot.press("s")
        await pilot.pause()
        assert "sort p99" in status(app)
        order = row_order(table)
        assert order[0] == AGGREGATE
        health = shown(app)
        p99s = [health[m].p99_s or 0.0 for m in order[1:]]
        assert p99s == sorted(p99s, reverse=True)
        assert order != by_severity, "p99 order should differ from severity in gpu-oom"
        # The selection stays on the model, wherever the sort moved it.
        assert table.selected_model == sick
        assert table.cursor_row == order.index(sick)

        for label, _ in SORTS[2:]:
            await pilot.press("s")
            await pilot.pause()
            assert f"sort {label}" in status(app)
            assert row_order(table)[0] == AGGREGATE

        await pilot.press("s")
        await pilot.pause()
        assert table.sort_label == "severity"
        assert "sort" not in status(app)
        assert row_order(table) == by_severity


async def test_question_mark_opens_help_and_escape_closes_it(make_app: AppFactory) -> None:
    app = make_app("gpu-oom")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "cycle the sort" in app.screen.query_one(Markdown).source

        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        assert app.focused is app.query_one(HealthTable)

        # q inside the help closes the help, not the app.
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("q")
        assert not isinstance(app.screen, HelpScreen)
        assert app.is_running


async def test_q_quits(make_app: AppFactory) -> None:
    # Nothing going on: at once. (In an incident q asks first: test_quit_confirm.py.)
    app = make_app("healthy")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.is_running
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


async def test_r_refreshes_now(make_app: AppFactory) -> None:
    app = make_app("gpu-oom", wrap=Counting)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert counting(app).refreshes == 1
        assert "11:16:40Z 0s old" in status(app)

        advance(app, 60)
        await pilot.press("r")
        await settle(pilot)
        assert counting(app).refreshes == 2
        assert app.last_error is None
        assert "11:17:40Z 0s old" in status(app)
        assert row_order(app.query_one(HealthTable))[1] == sick_model(app)


async def test_failed_refresh_keeps_last_good_values_marked_stale(make_app: AppFactory) -> None:
    app = make_app("gpu-oom", wrap=FailsAfterFirst)
    sick = sick_model(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.query_one(HealthTable)
        before = shown(app)[sick]
        assert not before.stale
        assert "STALE" not in status(app)

        advance(app, 30)
        await pilot.press("r")
        await settle(pilot)
        assert counting(app).refreshes == 2

        text = status(app)
        assert "⚠ STALE 30s" in text  # the age of what is on screen, not of the failure
        assert REFUSED in text
        assert "11:16:40Z" in text  # when the shown data was read
        assert app.query_one(StatusBar).has_class("-stale")

        after = shown(app)[sick]
        assert after.stale
        assert after.error_5xx_ratio == before.error_5xx_ratio
        assert after.p99_s == before.p99_s
        order = row_order(table)
        assert order[1] == sick
        assert str(table.get_row(sick)[1]) == f"{sick} (stale)"
        assert str(table.get_row(AGGREGATE)[1]) == "Σ all models (stale)"
        assert str(table.get_row(sick)[table.get_column_index("5xx")]).startswith("20.1%")
