"""`q` in the middle of an incident asks first (issue 22, item 5): a model breaching, an
open incident timeline or a canary drive in flight. With nothing going on it quits at
once, and ctrl+q keeps Textual's meaning: quit now."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from demo_app import EPOCH, SteppedDrive, frozen_demo_app, settle
from textual.pilot import Pilot
from textual.widgets import Static

from tui.app import WarroomApp
from tui.domain.entries import CLOSED
from tui.store.timeline import Timeline
from widgets.health_table import HealthTable
from widgets.screens.quit_confirm import QuitConfirm

SIZE = (120, 40)


def asking(app: WarroomApp) -> str:
    """The question on screen, as text."""
    assert isinstance(app.screen, QuitConfirm), app.screen
    return "\n".join(str(s.render()) for s in app.screen.query(Static))


async def press(pilot: Pilot[object], *keys: str) -> None:
    await pilot.press(*keys)
    await pilot.pause()


async def test_q_asks_while_a_model_breaches_and_n_or_escape_stays(tmp_path: Path) -> None:
    timeline = Timeline(tmp_path / "incident.jsonl")
    app = frozen_demo_app("gpu-oom", timeline=timeline)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "q")
        assert app.is_running
        text = asking(app)
        assert "Quit warroom?" in text
        assert f"The incident stays open; its timeline is at {timeline.path}." in text
        assert "1 model breaching" in text
        await press(pilot, "n")
        assert app.is_running and not isinstance(app.screen, QuitConfirm)
        assert app.focused is app.query_one(HealthTable)
        await press(pilot, "q")
        assert isinstance(app.screen, QuitConfirm)
        await press(pilot, "q")  # a second q neither quits nor stacks a second question
        assert app.is_running
        assert sum(isinstance(s, QuitConfirm) for s in app.screen_stack) == 1
        await press(pilot, "escape")
        assert app.is_running and not isinstance(app.screen, QuitConfirm)
        await press(pilot, "q", "y")
        assert not app.is_running
    assert app.return_code == 0


async def test_enter_quits_from_the_question() -> None:
    app = frozen_demo_app("gpu-oom")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "q")
        # No timeline kept by this cockpit: nothing to point at, the question still stands.
        assert "The incident stays open." in asking(app)
        await press(pilot, "enter")
        assert not app.is_running


async def test_q_quits_at_once_on_a_healthy_fleet() -> None:
    app = frozen_demo_app("healthy")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "q")
        assert not app.is_running
    assert app.return_code == 0


async def test_q_asks_on_a_healthy_fleet_while_the_incident_timeline_is_open(
    tmp_path: Path,
) -> None:
    timeline = Timeline(tmp_path / "incident.jsonl")
    at = datetime.fromtimestamp(EPOCH + 300, UTC)
    timeline.append("runbook.opened", at, runbook="errors-5xx", model="m")
    app = frozen_demo_app("healthy", timeline=timeline)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "q")
        assert app.is_running
        assert "timeline" in asking(app)
        await press(pilot, "y")
        assert not app.is_running

    # Once the incident is closed its timeline holds nothing open: q quits at once.
    timeline.append(CLOSED, at)
    app = frozen_demo_app("healthy", timeline=timeline)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "q")
        assert not app.is_running


async def test_q_asks_while_the_canary_drive_is_in_flight() -> None:
    drive = SteppedDrive(hold_at_s=150.0)
    app = frozen_demo_app("good-canary", drive=drive)
    async with app.run_test(size=SIZE) as pilot:
        assert drive.driver is not None
        for _ in range(500):
            if drive.driver.state.phase == "ramping":
                break
            await pilot.pause(0.01)
        await press(pilot, "escape")  # from the canary screen to the panes
        await press(pilot, "q")
        assert app.is_running
        assert "canary" in asking(app).lower()
        await press(pilot, "n")
        assert app.is_running


async def test_ctrl_q_still_quits_at_once() -> None:
    app = frozen_demo_app("gpu-oom")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "ctrl+q")
        assert not app.is_running


async def test_q_quits_at_once_on_a_healthy_fleet_whose_incident_is_only_opened(
    tmp_path: Path,
) -> None:
    """Every cockpit opens its fleet's incident (`tui.store.incident`): an incident holding only
    its opening is nothing to leave, so a calm fleet still quits on the first q."""
    from tui.store.incident import live_scope, start

    at = datetime.fromtimestamp(EPOCH + 300, UTC)
    opened = start(tmp_path, live_scope("prod", "http://prometheus:9090"), at)
    app = frozen_demo_app("healthy", timeline=opened)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "q")
        assert not app.is_running
