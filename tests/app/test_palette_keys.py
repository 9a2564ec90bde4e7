"""The command palette offers every action the keys offer (issue 22, item 18): "report",
"runbook" and "sort" each find an entry that runs; an entry that is blocked (a kiosk,
no mitigator, replay-only keys outside a replay) is not offered, as `check_action`
hides its key."""

from __future__ import annotations

from demo_app import frozen_demo_app, settle
from textual.pilot import Pilot

from tui.app import WarroomApp
from tui.config import load_config
from widgets.health_table import HealthTable
from widgets.screens.quit_confirm import QuitConfirm
from widgets.screens.report_form import ReportForm
from widgets.screens.runbook_screen import RunbookScreen

SIZE = (120, 40)


async def run_from_palette(pilot: Pilot[object], query: str) -> None:
    """ctrl+p, the query typed, enter on the first entry found."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*query)
    # The palette gathers its hits in the background: wait until the list shows them.
    for _ in range(100):
        await pilot.pause(0.02)
        if (
            pilot.app.screen.query("CommandList")
            and pilot.app.screen.query_one("CommandList").option_count
        ):
            break
    await pilot.press("enter")
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def titles(app: WarroomApp) -> set[str]:
    return {c.title for c in app.get_system_commands(app.screen)}


async def test_report_is_found_and_opens_the_export_form() -> None:
    app = frozen_demo_app("gpu-oom")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await run_from_palette(pilot, "report")
        assert isinstance(app.screen, ReportForm)


async def test_runbook_is_found_and_opens_the_navigator() -> None:
    app = frozen_demo_app("gpu-oom")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await run_from_palette(pilot, "runbook")
        assert isinstance(app.screen, RunbookScreen)


async def test_sort_is_found_and_cycles_the_table_sort() -> None:
    app = frozen_demo_app("gpu-oom")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.query_one(HealthTable)
        assert table.sort_label == "severity"
        await run_from_palette(pilot, "sort")
        assert table.sort_label == "p99"


async def test_each_entry_says_its_key() -> None:
    app = frozen_demo_app("gpu-oom")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        commands = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert {"Report", "Runbook", "Sort", "Canary", "Refresh", "GPUs", "Help", "Filter",
                "Quit"} <= set(commands)  # fmt: skip
        assert commands["Report"].startswith("e ·")
        assert commands["Sort"].startswith("s ·")
        # Replay keys exist only in a replay; with no mitigator, no mitigation either.
        assert not {"Pause", "−1m", "+1m", "Mitigate"} & set(commands)


async def test_quit_from_the_palette_asks_as_q_does() -> None:
    app = frozen_demo_app("gpu-oom")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        quits = [c for c in app.get_system_commands(app.screen) if c.title == "Quit"]
        assert len(quits) == 1
        await run_from_palette(pilot, "quit")
        assert app.is_running
        assert isinstance(app.screen, QuitConfirm)


async def test_a_kiosk_is_offered_nothing_that_acts() -> None:
    config = load_config(None, env={}, flags={("kiosk",): True})
    app = frozen_demo_app("gpu-oom", config=config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown = titles(app)
        assert "Runbook" in shown and "Sort" in shown
        assert not {"Report", "Mitigate", "Screenshot"} & shown
