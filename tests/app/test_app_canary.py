"""Pilot tests: the canary in the cockpit. A demo canary scenario's drive runs on the
app's own loop and opens on the canary screen; a bad canary stops at 5 % with the
failing gate and is rolled back drained into the timeline; the keys pause, promote and
abort only after a confirmation; with no drive of its own the screen watches the
rollout, reading the route where it can and the traffic share where it cannot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cockpit_pilot import HOLD_AT_S, held, held_good_canary, idle, kinds, until
from demo_app import SteppedDrive, frozen_demo_app
from kube_emulator import answer_access_reviews, seed_canary
from kubernetes.client import ApiClient
from rich.console import Console
from textual.widgets import Button, Input

from tui.actions.kube import Mitigator
from tui.app import WarroomApp
from tui.clock import FrozenClock
from tui.config import MitigationSettings
from tui.sim.source import DemoSource
from tui.store.timeline import Timeline
from widgets.canary_view import CanaryView
from widgets.screens.canary_screen import CanaryScreen
from widgets.screens.confirm_action import ConfirmAction
from widgets.screens.mitigation_menu import MitigationMenu

SIZE = (100, 40)
NS = "inference"


def view_text(app: WarroomApp) -> str:
    view = app.screen.query_one(CanaryView)
    console = Console(width=view.size.width, record=True, color_system=None)
    console.print(view.render())
    return console.export_text()


async def test_bad_canary_stops_at_5_percent_and_rolls_back_drained(tmp_path: Path) -> None:
    timeline = Timeline(tmp_path / "t.jsonl")
    drive = SteppedDrive(timeline)
    app = frozen_demo_app("bad-canary-p99", timeline=timeline, drive=drive)
    async with app.run_test(size=SIZE) as pilot:
        state = await until(pilot, drive, "rolled-back", "failed")
        assert isinstance(app.screen, CanaryScreen)
        assert state.phase == "rolled-back" and state.stage_pct == 5
        text = view_text(app)
        assert "Canary  rolled-back at 5 %" in text
        assert "✗   5 %" in text and "·  25 %" in text
        gate = next(line for line in text.splitlines() if "p99" in line and "≤" in line)
        assert gate.split()[0] == "✗"
        verdict = state.history[-1][1]
        assert (verdict.decision, verdict.metric) == ("rollback", "p99")
        assert verdict.value is not None and verdict.threshold is not None
        assert verdict.value > verdict.threshold
        assert f"gate {verdict.threshold:.2f} s" in text
        assert "in-flight requests drained to 0" in text
        # Back on the cockpit: the rollout is over, nothing left steering it.
        await pilot.press("escape")
        await idle(pilot)
        assert not isinstance(app.screen, CanaryScreen)
    entries = timeline.entries()
    assert kinds(timeline) == [
        "canary.started", "canary.stage", "canary.verdict", "action.requested",
        "action.step", "action.step", "action.succeeded", "canary.rolled-back",
    ]  # fmt: skip
    steps = [e["step"] for e in entries if e["kind"] == "action.step"]
    assert steps == ["traffic shifted", "drained"]
    assert entries[2]["metric"] == "p99" and entries[2]["stage_pct"] == 5


async def test_good_canary_is_promoted_and_says_so_on_the_cockpit(tmp_path: Path) -> None:
    timeline = Timeline(tmp_path / "t.jsonl")
    drive = SteppedDrive(timeline)
    app = frozen_demo_app("good-canary", timeline=timeline, drive=drive)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, drive, "ramping")
        await pilot.press("escape")  # the engineer looks at the panes meanwhile
        state = await until(pilot, drive, "promoted", "rolled-back", "failed")
        assert state.phase == "promoted"
        toasts = [n.message for n in app._notifications]
        assert any(m.startswith("promoted: the canary takes 100 %") for m in toasts)
    stages = [e["stage_pct"] for e in timeline.entries() if e["kind"] == "canary.stage"]
    assert stages == [5, 25, 50, 100]


async def test_pause_holds_a_passing_stage_until_resumed(tmp_path: Path) -> None:
    drive = SteppedDrive(hold_at_s=HOLD_AT_S)
    app = frozen_demo_app("good-canary", drive=drive)
    async with app.run_test(size=SIZE) as pilot:
        await held(pilot, drive)
        assert drive.clock is not None
        await pilot.press("p")
        await idle(pilot)
        assert drive.driver is not None and drive.driver.state.paused
        assert "PAUSED" in view_text(app) and "p resume" in view_text(app)
        drive.until = drive.clock.at + 900  # three holds' worth: still at 5 %
        await held(pilot, drive)
        assert drive.driver.state.stage_pct == 5
        assert drive.driver.state.verdict is not None
        assert drive.driver.state.verdict.decision == "advance"
        await pilot.press("p")
        drive.until = float("inf")
        state = await until(pilot, drive, "promoted")
        assert not state.paused


async def test_abort_asks_for_the_canary_name_then_rolls_back(tmp_path: Path) -> None:
    app, drive, timeline = held_good_canary(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await held(pilot, drive)
        await pilot.press("A")
        await idle(pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmAction)
        assert confirm.plan.title == "Roll back the canary, drained"
        assert confirm.query_one("#ca-apply", Button).disabled
        # Escape is a cancel: nothing changes, and the cancel is on record.
        await pilot.press("escape")
        await idle(pilot)
        assert "action.cancelled" in kinds(timeline)
        assert drive.driver is not None and drive.driver.state.phase == "ramping"
        await pilot.press("A")
        await idle(pilot)
        app.screen.query_one(Input).value = "llm-gateway-canary"
        await idle(pilot)
        await pilot.click("#ca-apply")
        drive.until = float("inf")
        state = await until(pilot, drive, "rolled-back", "failed")
        assert state.phase == "rolled-back"
        assert state.message.startswith("rolled back:")
    recorded = timeline.entries()
    abort = next(e for e in recorded if e["kind"] == "canary.abort-requested")
    assert abort["reason"] == "aborted by sre@bastion" and abort["stage_pct"] == 5
    assert [e["kind"] for e in recorded][-1] == "canary.rolled-back"


async def test_promote_now_is_confirmed_then_goes_straight_to_100(tmp_path: Path) -> None:
    app, drive, timeline = held_good_canary(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await held(pilot, drive)
        await pilot.press("p")  # paused: an explicit promotion still goes through
        await idle(pilot)
        await pilot.press("P")
        await idle(pilot)
        assert isinstance(app.screen, ConfirmAction)
        assert app.screen.plan.title == "Send 100 % of traffic to the canary"
        await pilot.click("#ca-apply")
        drive.until = float("inf")
        state = await until(pilot, drive, "promoted", "rolled-back", "failed")
        assert state.phase == "promoted"
        assert not state.paused
        assert "»  25 % skipped: promoted by hand" in view_text(app)
    stages = [e["stage_pct"] for e in timeline.entries() if e["kind"] == "canary.stage"]
    assert stages == [5, 100]
    assert "canary.promote-requested" in kinds(timeline)


async def test_ended_drive_greys_out_its_keys() -> None:
    drive = SteppedDrive()
    app = frozen_demo_app("bad-canary-p99", drive=drive)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, drive, "rolled-back")
        await pilot.press("A")
        await idle(pilot)
        assert isinstance(app.screen, CanaryScreen)  # no confirmation: nothing to abort
        assert app.screen.check_action("abort", ()) is None


async def test_watching_the_demo_canary_reads_the_traffic_share(tmp_path: Path) -> None:
    """No drive of the cockpit's own and no cluster: the stage comes from the requests."""
    app = frozen_demo_app("bad-canary-p99")
    source = app.source
    assert isinstance(source, DemoSource)
    clock = app.clock
    assert isinstance(clock, FrozenClock)
    source.set_canary_weight(25)
    source.warm_canary()
    clock.at += 120
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await app.workers.wait_for_complete()
        await idle(pilot)
        assert isinstance(app.screen, CanaryScreen) and app.screen.watch_only
        text = view_text(app)
        assert "Canary  watching at 25 %" in text
        assert "At 25 % by the traffic share" in text
        assert "A drained rollback · esc back" in text
        clock.at += 400
        app.canary.watch()
        await app.workers.wait_for_complete()
        await idle(pilot)
        text = view_text(app)
        assert "rollback p99 regressed at 25 %" in text
        # Someone else drives: p and P steer nothing here.
        assert app.screen.check_action("pause", ()) is False
        assert app.screen.check_action("promote", ()) is False
        # A is the drained rollback mitigation; with no cluster, one sentence says why not.
        await pilot.press("A")
        await idle(pilot)
        toasts = [n.message for n in app._notifications]
        assert any("No Kubernetes API is configured" in m for m in toasts)


async def test_watching_with_no_canary_says_there_is_no_traffic() -> None:
    app = frozen_demo_app("healthy")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await app.workers.wait_for_complete()
        await idle(pilot)
        assert "No traffic on the gateway revisions to watch yet." in view_text(app)


@pytest.fixture
def cluster(kmock: Any) -> Any:
    seed_canary(kmock, NS, canary_pct=50)
    answer_access_reviews(kmock, set())
    return kmock


async def test_watch_reads_the_route_weight_and_offers_the_rollback(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    """The route says 50 % while no canary traffic has been served yet (the demo
    fleet does not follow this route): the route's weight is what the watch shows."""
    mitigator = Mitigator(api, MitigationSettings(), clock=FrozenClock(1_795_000_600.0))
    app = frozen_demo_app("healthy", mitigator=mitigator, timeline=Timeline(tmp_path / "t"))
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("c")
        await app.workers.wait_for_complete()
        await idle(pilot)
        text = view_text(app)
        assert "Canary  watching at 50 %" in text
        assert "At 50 % by the route weight" in text
        await pilot.press("A")
        await idle(pilot)
        assert isinstance(app.screen, MitigationMenu)


async def test_abort_at_100_percent_leaves_no_hold_line_under_the_rollback(
    tmp_path: Path,
) -> None:
    """Issue 22 item 6: aborted 90 s into the 100 % stage, the view kept "Holding 100 %
    for the hold time: 90.6 of 300 s" under "rolled back … drained to 0 in 2 s"."""
    timeline = Timeline(tmp_path / "t.jsonl")
    drive = SteppedDrive(timeline, hold_at_s=1080)
    app = frozen_demo_app("good-canary", timeline=timeline, drive=drive)
    async with app.run_test(size=SIZE) as pilot:
        state = await held(pilot, drive)
        assert state.stage_pct == 100
        assert "Holding 100 % for the hold time" in view_text(app)
        await pilot.press("A")
        await idle(pilot)
        assert isinstance(app.screen, ConfirmAction)
        app.screen.query_one(Input).value = "llm-gateway-canary"
        await idle(pilot)
        await pilot.click("#ca-apply")
        drive.until = float("inf")
        state = await until(pilot, drive, "rolled-back", "failed")
        assert state.phase == "rolled-back"
        text = view_text(app)
        assert "in-flight requests drained to 0" in text
        # The log keeps what was said at its time; nothing says it holds "now".
        assert not [line for line in text.splitlines() if line.startswith("now")], text
        assert "for the hold time: 90 of 300 s" not in text
        assert text.rstrip().splitlines()[-2].endswith("drained to 0 in 2 s.")
