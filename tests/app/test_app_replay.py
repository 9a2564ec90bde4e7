"""`warroom replay` in the cockpit: a gpu-oom incident recorded from the simulator plays
back; space pauses (the top line says so), ] and [ seek and the panes follow; `e`
remakes the report from the recording and the incident's timeline beside it."""

from __future__ import annotations

import json
from pathlib import Path

from demo_app import EPOCH, frozen_demo_app
from textual.widgets import Button

from tui.app import WarroomApp
from tui.cli.parser import build_parser
from tui.cli.replay import build_replay
from tui.clock import FrozenClock
from tui.sources.replay import ReplayClock
from tui.store.recording import Recorder, read_recording, recording_path
from tui.store.timeline import Timeline
from widgets.cause_line import CauseLine
from widgets.gpu_grid import GpuGrid
from widgets.health_table import HealthTable
from widgets.screens.report_form import ReportForm
from widgets.status_bar import StatusBar


async def record_incident(tmp_path: Path) -> tuple[Path, Timeline]:
    """Twenty simulated minutes of gpu-oom through the cockpit, a refresh every 10 s,
    recorded as `warroom --demo` records it, with the incident's timeline beside it."""
    timeline = Timeline(tmp_path / "incidents" / "20261118T110100Z.jsonl")
    timeline.path.parent.mkdir(parents=True)
    app = frozen_demo_app("gpu-oom", at_s=60, timeline=timeline)
    app.recorder = Recorder(recording_path(timeline.path), source=app.source.description)
    clock = app.clock
    assert isinstance(clock, FrozenClock)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        for _ in range(120):
            clock.at += 10
            app.refresh_data()
            await app.workers.wait_for_complete()
        await pilot.press("t")  # the responder opens the runbook: the timeline has it
        await pilot.pause()
    return app.recorder.path, timeline


class Monotonic:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def replay_app(path: Path, timeline: Timeline, mono: Monotonic) -> tuple[WarroomApp, ReplayClock]:
    """The cockpit as `warroom replay PATH` builds it, on a clock the test moves."""
    args = build_parser().parse_args(["replay", str(path)])
    app, _, beside = build_replay(args, monotonic=mono)
    assert beside is not None and beside.path == timeline.path
    assert isinstance(app.replay, ReplayClock)
    app.live = False  # the test refreshes by hand
    return app, app.replay


def codellama_5xx(app: WarroomApp) -> str:
    table = app.query_one(HealthTable)
    column = next(i for i, c in enumerate(table.ordered_columns) if str(c.label) == "5xx")
    for row in range(table.row_count):
        cells = [str(c) for c in table.get_row_at(row)]
        if any("codellama" in c for c in cells):
            return cells[column]
    raise AssertionError("no codellama row")


async def test_replay_pauses_seeks_and_remakes_the_report(tmp_path: Path) -> None:
    path, timeline = await record_incident(tmp_path)
    recorded = [e["kind"] for e in timeline.entries()]
    mono = Monotonic()
    app, clock = replay_app(path, timeline, mono)
    async with app.run_test(size=(160, 45)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert clock.now() == EPOCH + 60
        before = codellama_5xx(app)  # minute one: before the OOMs begin
        await pilot.press("space")
        await pilot.pause()
        assert clock.paused
        assert "⏸ paused" in str(app.query_one(StatusBar).render())
        for _ in range(10):
            await pilot.press("right_curly_bracket")  # ten minutes on, ten times: the end
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert clock.now() == clock.last
        after = codellama_5xx(app)
        assert before != after and "✖" in after
        await pilot.press("left_square_bracket")
        await app.workers.wait_for_complete()
        assert clock.now() == clock.last - 60
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ReportForm)
        assert form.report.root_cause.startswith("GPU out of memory surfacing as 5xx")
        form.query_one("#rf-export", Button).press()
        await app.workers.wait_for_complete()
        await pilot.pause()
    reports = list((tmp_path / "reports").glob("*.json"))
    assert len(reports) == 1
    data = json.loads(reports[0].read_text())
    assert any(r["event"].startswith("Runbook opened: Elevated 5xx") for r in data["timeline"])
    assert any("5xx crossed its SLO" in r["event"] for r in data["timeline"])
    # The replay writes nothing into the incident's timeline.
    assert [e["kind"] for e in timeline.entries()] == recorded


async def test_replay_shows_the_recorded_gpus_causes_and_evidence(tmp_path: Path) -> None:
    """What was recorded plays back: the grid with its OOMed GPUs, the cause line, the
    runbook reading the OOMs, and a report remade from it about the GPU OOM. (Replay
    once read no GPUs at all: `gpu_source` was forced to ``none``.)"""
    path, timeline = await record_incident(tmp_path)
    assert sum(1 for s in read_recording(path).snapshots if s.gpus) > 1
    mono = Monotonic()
    app, clock = replay_app(path, timeline, mono)
    async with app.run_test(size=(200, 50)) as pilot:
        clock.seek_to(clock.last)
        app.refresh_data()
        await app.workers.wait_for_complete()
        await pilot.pause()
        snap = app.tracker.current
        assert snap is not None and snap.gpus, "the recorded GPUs are not on screen"
        grid = app.query_one(GpuGrid)
        assert "No GPU data" not in str(grid.render_line(0))
        assert any(c.kind == "gpu_oom" for c in app.causes.values())
        cause = str(app.query_one(CauseLine).render())
        assert "GPU OOM" in cause
        report = app.incident_report()
        assert report is not None and "OOM" in report.title
