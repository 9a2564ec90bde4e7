"""What the cockpit's Pilot tests share: steps (a few frames, keys then frames, every
worker done, the canary drive held or decided), checks (the cockpit still alive) and
readings (the table's rows, a GPU cell's style), the simulator's wraps that count or
fail refreshes, and the health table alone over one frozen snapshot.

Imported as ``cockpit_pilot``: pytest puts ``tests/`` on ``sys.path``.
"""

from __future__ import annotations

import traceback
from pathlib import Path

from demo_app import AT_S, EPOCH, SteppedDrive, frozen_demo_app
from rich.style import Style
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from tui.app import WarroomApp
from tui.clock import FrozenClock
from tui.config import load_config
from tui.domain.drive_state import DriveState
from tui.domain.model import GpuState, HistoryPoint, Snapshot
from tui.errors import SourceError
from tui.sim.source import DemoSource
from tui.store.timeline import Timeline
from widgets.gpu_grid import GpuGrid
from widgets.health_table import HealthTable

# -- steps ---------------------------------------------------------------------------------


async def idle(pilot: Pilot[object], frames: int = 4) -> None:
    """A few frames: what a key set off is on screen, workers or not."""
    for _ in range(frames):
        await pilot.pause(0.02)


async def press(pilot: Pilot[object], *keys: str) -> None:
    """Keys, then a few frames. Not `settle`: while a confirmation is up, the worker that
    opened it waits for the answer, so waiting for every worker would never end."""
    for key in keys:
        await pilot.press(key)
        await idle(pilot)


async def done(pilot: Pilot[object]) -> None:
    """Once nothing waits for an answer: every worker finished (the action carried out)."""
    await pilot.app.workers.wait_for_complete()
    await idle(pilot)


def advance(app: WarroomApp, seconds: float) -> None:
    """Let simulated time pass; nothing refreshes until a key asks (timers are off)."""
    assert isinstance(app.clock, FrozenClock)
    app.clock.at += seconds


# -- checks and readings -------------------------------------------------------------------


def assert_alive(app: WarroomApp) -> None:
    """The cockpit still runs, and no exception reached Textual (its trace if one did)."""
    assert app.is_running, "the cockpit stopped"
    if app._exception is not None:
        trace = "".join(traceback.format_exception(app._exception))
        raise AssertionError(f"an exception reached Textual:\n{trace}")


def sick_model(app: WarroomApp) -> str:
    """The model the app's scenario makes sick."""
    source = getattr(app.source, "inner", app.source)
    assert isinstance(source, DemoSource)
    model = source.scenario.expected(source.fleet).model
    assert model is not None
    return model


def row_order(table: HealthTable) -> list[str]:
    """Row keys (model names, `AGGREGATE` for Σ) top to bottom as displayed."""
    return [
        table.coordinate_to_cell_key((row, 0)).row_key.value or "" for row in range(table.row_count)
    ]


def cell_style(grid: GpuGrid, gpu: GpuState) -> Style:
    """The style ``gpu``'s cell is drawn with, read off the rendered line."""
    region = grid.cell_region(gpu)
    assert region is not None
    strip = grid.render_line(region.y - round(grid.scroll_offset.y))
    (segment,) = list(strip.crop(region.x, region.x + 1))
    return segment.style or Style()


# -- the simulator, wrapped ----------------------------------------------------------------

REFUSED = "Prometheus at http://x refused the connection; is it running?"


class Counting:
    """The real simulator, counting refreshes."""

    def __init__(self, inner: DemoSource) -> None:
        self.inner = inner
        self.description = inner.description
        self.refreshes = 0

    async def refresh(self) -> Snapshot:
        self.refreshes += 1
        return await self.inner.refresh()

    async def history(self) -> dict[str, list[HistoryPoint]]:
        return await self.inner.history()

    async def aclose(self) -> None:
        await self.inner.aclose()


class FailsAfterFirst(Counting):
    """The real simulator for one refresh, then a backend that refuses every connection."""

    async def refresh(self) -> Snapshot:
        if self.refreshes >= 1:
            self.refreshes += 1
            raise SourceError(REFUSED)
        return await super().refresh()


# -- the canary drive ----------------------------------------------------------------------

HOLD_AT_S = 150.0
"""Warm-up (90 s) over and the 5 % stage a minute in: where the key tests stop the drive."""


def held_good_canary(tmp_path: Path) -> tuple[WarroomApp, SteppedDrive, Timeline]:
    """The good canary's cockpit, its drive recorded in a timeline under ``tmp_path`` and
    stopping `HOLD_AT_S` in, so keys steer a live stage."""
    timeline = Timeline(tmp_path / "t.jsonl")
    drive = SteppedDrive(timeline, hold_at_s=HOLD_AT_S)
    return frozen_demo_app("good-canary", timeline=timeline, drive=drive), drive, timeline


async def held(pilot: Pilot[object], drive: SteppedDrive) -> DriveState:
    """Frames until the drive waits at ``drive.until``, mid-stage."""
    assert drive.clock is not None and drive.driver is not None
    for _ in range(500):
        if drive.driver.state.phase == "ramping" and drive.clock.at + 15 > drive.until:
            await idle(pilot)
            return drive.driver.state
        await pilot.pause(0.01)
    raise AssertionError(f"the drive did not stop mid-stage: {drive.lines}")


async def until(pilot: Pilot[object], drive: SteppedDrive, *phases: str) -> DriveState:
    """Frames until the drive reaches one of ``phases``."""
    assert drive.driver is not None
    for _ in range(500):
        if drive.driver.state.phase in phases:
            await idle(pilot)
            return drive.driver.state
        await pilot.pause(0.01)
    raise AssertionError(f"the drive stayed {drive.driver.state.phase}: {drive.lines}")


def kinds(timeline: Timeline) -> list[str]:
    """The kinds of the timeline's entries, in order."""
    return [e["kind"] for e in timeline.entries()]


# -- the health table alone ----------------------------------------------------------------


def gpu_oom_snapshot() -> tuple[Snapshot, str]:
    """One refresh of the frozen gpu-oom fleet, and its sick model."""
    clock = FrozenClock(EPOCH + AT_S)
    source = DemoSource("gpu-oom", clock=clock, epoch=EPOCH, history_s=0.0)
    sick = source.scenario.expected(source.fleet).model
    assert sick is not None
    return source.refresh_now(), sick


class TableOnly(App[None]):
    """The health table and nothing else, with the default SLO."""

    def compose(self) -> ComposeResult:
        yield HealthTable(load_config(None, env={}).slo)
