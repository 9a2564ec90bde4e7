"""A kiosk writes nothing (issue 21, item 5): a visitor at the wall walks the runbook,
GPU events arrive, and neither the incident's timeline nor a recording gains a byte.

The operator's own cockpit records the incident; the kiosk only reads it, for the XIDs
it already holds (so they are not news again) and for what it shows.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from demo_app import frozen_demo_app, settle
from textual.pilot import Pilot

from tui.app import WarroomApp
from tui.clock import utc
from tui.config import load_config
from tui.domain.model import GpuEvent
from tui.store.incident import Scope, demo_scope, start
from tui.store.recording import Recorder, recording_path
from tui.store.timeline import Timeline
from widgets.screens.runbook_screen import RunbookScreen

SIZE = (120, 40)


def tree(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its bytes (None for a directory)."""
    return {
        str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes())
        for p in sorted(root.rglob("*"))
    }


def an_operators_incident(state: Path, scope: Scope | None = None) -> Path:
    """An open incident the operator's cockpit wrote: one runbook entry and one XID; of
    ``scope``, opened as the cockpit opens one, when given."""
    if scope is not None:
        timeline = start(state, scope, utc(1_795_000_000))
    else:
        folder = state / "incidents"
        folder.mkdir(parents=True)
        timeline = Timeline(folder / "20261118T200000Z.jsonl")
    timeline.append("runbook.opened", utc(1_795_000_000), runbook="latency", model="m")
    fell_off = "XID 79 (GPU has fallen off the bus)"
    xid = GpuEvent(at=utc(1_795_000_100), kind="xid", detail=fell_off, node="gpu-node-7", gpu=3)
    timeline.record_gpu_event(xid)
    return timeline.path


async def walk_and_wait(pilot: Pilot[object], app: WarroomApp) -> None:
    """What a visitor does: open the runbook, walk it with Enter, back out; refreshes
    (and the GPU events they bring) land meanwhile."""
    await settle(pilot)
    for key in ("t", "enter", "enter", "escape", "t", "y", "escape"):
        await pilot.press(key)
        await settle(pilot)
    app.refresh_data()
    await settle(pilot)


async def test_a_kiosk_walks_the_runbook_and_writes_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state"
    path = an_operators_incident(state)
    before = tree(tmp_path)
    config = load_config(None, env={"XDG_STATE_HOME": str(tmp_path)}, flags={("kiosk",): True})
    recorder = Recorder(recording_path(path), source="test")
    app = frozen_demo_app(
        "gpu-oom", at_s=900, config=config, timeline=Timeline(path), recorder=recorder
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, RunbookScreen)  # the visitor may walk it
        await pilot.press("escape")
        await walk_and_wait(pilot, app)
        learned = app.tracker.events.all()
        # The kiosk still read the incident: the operator's XID is held, not news.
        assert any(e.node == "gpu-node-7" and e.gpu == 3 for e in learned)
        assert len(learned) > 1  # and the simulated fleet's own GPU events came in
    assert tree(tmp_path) == before
    assert not recording_path(path).exists()


@pytest.fixture
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    for name in list(os.environ):
        if name.startswith("WARROOM_"):
            monkeypatch.delenv(name)
    return tmp_path


def kiosk_cockpit(*options: str) -> WarroomApp:
    """The cockpit `warroom OPTIONS` builds, not run."""
    from tui.cli.cockpit import build_cockpit
    from tui.cli.parser import build_parser

    return build_cockpit(build_parser().parse_args(list(options)))


@pytest.mark.parametrize("scenario", ["gpu-oom", "bad-canary-p99"])
async def test_warroom_demo_kiosk_leaves_the_state_dir_as_it_was(
    state_home: Path, scenario: str
) -> None:
    """`warroom --demo --kiosk` with no incident open: it starts none, creates no
    directory, keeps no recording; a canary scenario plays its drive all the same, to
    its rollback (the settling waits for the drive's end; sped up, it takes a second)."""
    app = kiosk_cockpit("--demo", "--kiosk", "--scenario", scenario, "--at", "15m",
                        "--speed", "100")  # fmt: skip
    assert app.timeline is None and app.recorder is None
    async with app.run_test(size=SIZE) as pilot:
        await walk_and_wait(pilot, app)
        if scenario == "bad-canary-p99":
            assert app.drive is not None and app.drive.timeline is None
            assert app.drive.state.phase == "rolled-back", app.drive.state.message
    assert tree(state_home) == {}


async def test_warroom_demo_kiosk_reads_the_open_demo_incident(state_home: Path) -> None:
    path = an_operators_incident(state_home / "warroom", demo_scope("gpu-oom"))
    before = tree(state_home)
    app = kiosk_cockpit("--demo", "--kiosk", "--scenario", "gpu-oom", "--at", "15m")
    assert app.timeline is None
    assert app.report_timeline is not None and app.report_timeline.path == path
    async with app.run_test(size=SIZE) as pilot:
        await walk_and_wait(pilot, app)
        assert any(e.node == "gpu-node-7" for e in app.tracker.events.all())
    assert tree(state_home) == before


async def test_the_operators_cockpit_still_records(state_home: Path) -> None:
    """The same walk without --kiosk writes the timeline: the test above is not vacuous."""
    app = kiosk_cockpit("--demo", "--scenario", "gpu-oom", "--at", "15m")
    assert app.timeline is not None
    async with app.run_test(size=SIZE) as pilot:
        await walk_and_wait(pilot, app)
    assert app.timeline.path.is_file()
    kinds = {e["kind"] for e in app.timeline.entries()}
    assert {"runbook.opened", "runbook.answer"} <= kinds
    assert any(k.startswith("gpu.") for k in kinds)


async def test_the_kiosks_palette_saves_no_screenshot(tmp_path: Path) -> None:
    """Textual's palette offers a screenshot, which a terminal saves to this disk."""
    for kiosk, offered in ((True, False), (False, True)):
        config = load_config(None, env={"XDG_STATE_HOME": str(tmp_path)}, flags={("kiosk",): kiosk})
        app = frozen_demo_app("healthy", config=config)
        async with app.run_test(size=SIZE):
            titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Theme" in titles
        assert ("Screenshot" in titles) is offered
