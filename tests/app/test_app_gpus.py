"""Pilot tests: the GPU side of the cockpit over the frozen simulated fleet — the suspected
cause, the GPU grid beside the table, the incident timeline, and a GPU part that fails on
its own."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cockpit_pilot import Counting, cell_style, row_order, sick_model
from demo_app import AT_S, EPOCH, frozen_demo_app, settle
from textual.message import Message
from textual.notifications import Notify

from tui.app import WarroomApp
from tui.clock import FrozenClock, utc
from tui.config import load_config
from tui.domain.model import AGGREGATE, GpuEvent, GpuState, Snapshot, iso_utc
from tui.domain.xid import describe
from tui.sim.fleet import Gpu
from tui.sim.source import DemoSource
from tui.sources.nvml import NvmlGpus
from tui.store.timeline import Timeline
from widgets.cause_line import CauseLine
from widgets.gpu_detail import GpuDetail
from widgets.gpu_grid import GpuGrid, natural_key
from widgets.health_table import HealthTable
from widgets.status_bar import StatusBar

AppFactory = Callable[..., WarroomApp]
NARROW = (80, 24)
SIZE = (120, 40)
WIDE = (200, 50)
GPU_DOWN = "GPU data not read: dcgm-exporter series are missing from Prometheus."


def build_app(scenario: str, **options: Any) -> WarroomApp:
    return frozen_demo_app(scenario, **options)


def demo_of(app: WarroomApp) -> DemoSource:
    source = getattr(app.source, "inner", app.source)
    assert isinstance(source, DemoSource)
    return source


def sick_gpus(app: WarroomApp) -> tuple[Gpu, ...]:
    """The sick model's GPUs as the fleet places them."""
    demo = demo_of(app)
    sick = sick_model(app)
    (served,) = [m for m in demo.fleet.models if m.name == sick]
    assert served.gpus
    return served.gpus


def where(gpus: tuple[Gpu, ...]) -> str:
    """``gpu-node-006 GPU 6, 7``: one node's GPUs, as the cause line names them."""
    (node,) = {g.node for g in gpus}
    indices = ", ".join(str(g.index) for g in sorted(gpus, key=lambda g: g.index))
    return f"{node} GPU {indices}"


def grid_line(grid: GpuGrid, y: int) -> str:
    return grid.render_line(y).text.rstrip()


def grid_gpus(grid: GpuGrid) -> list[GpuState]:
    """The GPUs the app last handed the grid."""
    app = grid.app
    assert isinstance(app, WarroomApp)
    snapshot = app.tracker.current
    assert snapshot is not None
    return list(snapshot.gpus)


def cause_text(app: WarroomApp) -> str:
    return str(app.query_one(CauseLine).render())


def column_keys(table: HealthTable) -> list[str]:
    return [str(c.key.value) for c in table.ordered_columns]


def timeline_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


class GpusFailAfterFirst(Counting):
    """The real simulator; from the second refresh on its GPU part is not read."""

    async def refresh(self) -> Snapshot:
        snap = await super().refresh()
        if self.refreshes >= 2:
            return replace(snap, gpus=(), gpu_error=GPU_DOWN)
        return snap


class ResendsEvents(Counting):
    """The real simulator, handing back every event it ever reported on each refresh, as
    a source that re-reads its XID history would."""

    def __init__(self, inner: DemoSource) -> None:
        super().__init__(inner)
        self.sent: tuple[GpuEvent, ...] = ()
        self.last: Snapshot | None = None

    async def refresh(self) -> Snapshot:
        snap = await super().refresh()
        self.sent = (*self.sent, *snap.events)
        self.last = replace(snap, events=self.sent)
        return self.last


# -- 1. the suspected cause -------------------------------------------------------------


async def test_gpu_oom_opens_on_the_sick_model_with_its_cause(make_app: AppFactory) -> None:
    app = make_app("gpu-oom")
    demo = demo_of(app)
    sick = demo.scenario.expected(demo.fleet).model
    assert sick is not None
    headline = f"5xx likely downstream of GPU OOM on {where(sick_gpus(app))}"
    assert headline == "5xx likely downstream of GPU OOM on gpu-node-006 GPU 6, 7"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.query_one(HealthTable)
        assert table.cursor_row == 1
        assert table.selected_model == sick
        assert app.selected == sick

        assert list(app.causes) == [sick]
        cause = app.causes[sick]
        assert cause.kind == "gpu_oom"
        assert cause.headline == headline
        assert cause.gpus == tuple(sorted((g.node, g.index) for g in sick_gpus(app)))

        line = app.query_one(CauseLine)
        assert not line.has_class("-none")
        # At 120 columns the tally does not fit: the headline does.
        assert cause_text(app) == f"◆ {sick}: {headline}"


async def test_healthy_fleet_has_no_cause_and_hides_the_line(make_app: AppFactory) -> None:
    app = make_app("healthy")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.query_one(HealthTable).row_count == 13
        assert app.causes == {}
        line = app.query_one(CauseLine)
        assert line.has_class("-none")
        assert line.display is False
        assert cause_text(app) == ""


# -- 2. the cause column ----------------------------------------------------------------


async def test_wide_table_names_the_cause_beside_the_sick_model(make_app: AppFactory) -> None:
    app = make_app("gpu-oom")
    sick = sick_model(app)
    (node,) = {g.node for g in sick_gpus(app)}
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        table = app.query_one(HealthTable)
        keys = column_keys(table)
        assert keys[-1] == "cause"
        assert table.ordered_columns[-1].label.plain == "suspected cause"
        cell = table.get_cell(sick, "cause")
        assert cell.plain == f"GPU OOM {node} GPU 6,7"
        assert cell.plain == app.causes[sick].short
        others = [m for m in row_order(table) if m != sick]
        assert len(others) == 12
        assert all(table.get_cell(m, "cause").plain == "" for m in others)


async def test_narrower_table_has_no_cause_column(make_app: AppFactory) -> None:
    app = make_app("gpu-oom")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.query_one(HealthTable)
        assert "cause" not in column_keys(table)
        assert "suspected cause" not in [c.label.plain for c in table.ordered_columns]
        assert column_keys(table)[-1] == "kv"
        # The cause is still on screen, on the line under the table.
        assert sick_model(app) in app.causes


async def test_resizing_across_the_cause_column_keeps_the_selected_model(
    make_app: AppFactory,
) -> None:
    app = make_app("gpu-oom")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        table, grid = app.query_one(HealthTable), app.query_one(GpuGrid)
        await pilot.press("down")
        await settle(pilot)
        other = row_order(table)[2]
        assert (table.selected_model, app.selected, grid.highlighted) == (other, other, other)
        assert "cause" in column_keys(table)

        await pilot.resize_terminal(*SIZE)
        await settle(pilot)
        assert "cause" not in column_keys(table)
        assert table.selected_model == other
        assert app.selected == other
        assert grid.highlighted == other


# -- 3. `g` and the two panes -----------------------------------------------------------


async def test_g_swaps_plots_for_the_grid_on_a_narrow_terminal(make_app: AppFactory) -> None:
    app = make_app("gpu-oom")
    sick = sick_model(app)
    sick_places = {(g.node, g.index) for g in sick_gpus(app)}
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        plots, gpus = app.query_one("#plots-pane"), app.query_one("#gpu-pane")
        grid, table = app.query_one(GpuGrid), app.query_one(HealthTable)
        assert plots.display is True
        assert gpus.display is False
        assert app.focused is table

        await pilot.press("g")
        await settle(pilot)
        assert plots.display is False
        assert gpus.display is True
        assert gpus.region.width == NARROW[0]
        assert app.focused is grid
        assert grid.highlighted == sick
        gpu = grid.selected
        assert gpu is not None
        assert gpu.model == sick
        assert (gpu.node, gpu.gpu) in sick_places
        assert {e.kind for e in grid.events_for(gpu)} >= {"xid", "oom"}
        assert app.query_one(GpuDetail).gpu == gpu
        assert grid_line(grid, 0).startswith("48 GPUs · 6 nodes")

        await pilot.press("g")
        await settle(pilot)
        assert app.focused is table
        assert plots.display is True
        assert gpus.display is False
        assert app.selected == sick


async def test_wide_terminal_shows_plots_and_grid_side_by_side(make_app: AppFactory) -> None:
    app = make_app("gpu-oom")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        plots, gpus = app.query_one("#plots-pane"), app.query_one("#gpu-pane")
        assert plots.display is True
        assert gpus.display is True
        assert plots.region.width == gpus.region.width == WIDE[0] // 2
        assert plots.region.y == gpus.region.y
        assert plots.region.right == gpus.region.x

        await pilot.press("g")
        await settle(pilot)
        assert app.focused is app.query_one(GpuGrid)
        assert plots.display is True
        assert gpus.display is True


# -- 4. the table's cursor highlights the model's GPUs ----------------------------------


async def test_table_cursor_highlights_the_models_gpus(make_app: AppFactory) -> None:
    app = make_app("gpu-oom")
    sick = sick_model(app)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        grid = app.query_one(GpuGrid)
        gpus = grid_gpus(grid)
        assert len(gpus) == 48
        assert grid.highlighted == sick

        await pilot.press("down")
        await pilot.pause()
        other = row_order(app.query_one(HealthTable))[2]
        assert other != sick
        assert app.selected == other
        assert grid.highlighted == other
        mine = {(g.node, g.gpu) for g in gpus if g.model == other}
        assert mine, f"{other} holds GPUs in the fleet"
        underlined = {(g.node, g.gpu) for g in gpus if cell_style(grid, g).underline}
        assert underlined == mine

        await pilot.press("up", "up")
        await pilot.pause()
        assert app.selected == AGGREGATE
        assert grid.highlighted is None
        assert not any(cell_style(grid, g).underline for g in gpus)
        assert not any(cell_style(grid, g).dim for g in gpus)


async def test_grid_cursor_starts_on_the_highlighted_models_gpu(make_app: AppFactory) -> None:
    app = make_app("gpu-oom")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down")
        await pilot.pause()
        other = app.selected
        assert other not in (AGGREGATE, sick_model(app))

        await pilot.press("g")
        await settle(pilot)
        grid = app.query_one(GpuGrid)
        assert app.focused is grid
        gpu = grid.selected
        assert gpu is not None
        assert gpu.model == other
        mine = [g for g in grid_gpus(grid) if g.model == other]
        assert not any(grid.events_for(g) for g in mine)
        # No event on its GPUs: the cursor starts on its first GPU in display order.
        first = min(mine, key=lambda g: (natural_key(g.node), g.gpu))
        assert gpu == first


# -- 5. the incident timeline -----------------------------------------------------------


async def test_gpu_events_go_into_the_timeline_once(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    app = build_app("gpu-oom", timeline=Timeline(path), wrap=ResendsEvents)
    demo = demo_of(app)
    xids = demo.scenario.xid_changes(demo.fleet, AT_S)
    assert len(xids) == 2
    expected_xids = sorted(
        (iso_utc(utc(EPOCH + at_s)), gpu.node, gpu.index, describe(code))
        for at_s, gpu, code in xids
    )
    sick = sick_model(app)
    (pod,) = {g.pod for g in sick_gpus(app)}
    places = {(g.node, g.index) for g in sick_gpus(app)}
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        entries = timeline_lines(path)
        kinds = Counter(e["kind"] for e in entries)
        ooms = [e for e in app.tracker.events.all() if e.kind == "oom"]
        assert len(ooms) == 9
        assert kinds == {"gpu.xid": 2, "gpu.oom": 9, "gpu.oomkilled": 1}
        assert len({e["key"] for e in entries}) == len(entries) == len(app.tracker.events)

        assert (
            sorted(
                (e["at"], e["node"], e["gpu"], e["detail"])
                for e in entries
                if e["kind"] == "gpu.xid"
            )
            == expected_xids
        )
        assert expected_xids[0][3] == "XID 31 (GPU memory page fault)"
        assert expected_xids[1][3] == "XID 43 (GPU stopped processing)"
        for e in entries:
            assert e["model"] == sick
            assert e["pod"] == pod
        assert {(e["node"], e["gpu"]) for e in entries if e["kind"] == "gpu.oom"} == places
        (killed,) = [e for e in entries if e["kind"] == "gpu.oomkilled"]
        assert killed["gpu"] is None
        assert killed["detail"].startswith("container vllm OOMKilled (exit 137)")
        text = path.read_text(encoding="utf-8")

        # The source hands every event back again: nothing is written twice.
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.source, ResendsEvents)
        assert app.source.refreshes == 2
        last = app.source.last
        assert last is not None
        assert sorted(e.detail for e in last.events) == [x[3] for x in expected_xids]
        assert path.read_text(encoding="utf-8") == text


async def test_restarting_on_the_same_timeline_writes_nothing_twice(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    first = build_app("gpu-oom", timeline=Timeline(path))
    async with first.run_test(size=SIZE) as pilot:
        await settle(pilot)
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) == 12

    again = build_app("gpu-oom", timeline=Timeline(path))
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Learned afresh, and on screen, but already in the file.
        assert len(again.tracker.events) == 12
        assert sick_model(again) in again.causes
    assert path.read_text(encoding="utf-8") == text


async def test_unwritable_timeline_keeps_the_app_up_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "incidents" / "t.jsonl"
    timeline = Timeline(path)
    # Now the parent is a regular file: open() fails with NotADirectoryError, even as root.
    (tmp_path / "incidents").write_text("not a directory\n", encoding="utf-8")
    notes: list[tuple[str, str]] = []

    def hook(message: Message) -> None:
        if isinstance(message, Notify):
            notes.append((message.notification.message, message.notification.severity))

    app = build_app("gpu-oom", timeline=timeline)
    sick = sick_model(app)
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await settle(pilot)
        assert app.is_running
        expected = (
            f"The incident timeline {path} cannot be written (Not a directory); "
            "events stay on screen only."
        )
        assert notes
        assert set(notes) == {(expected, "error")}
        # The events are still shown and still explain the 5xx.
        assert len(app.tracker.events) == 12
        assert list(app.causes) == [sick]
        assert app.query_one(HealthTable).row_count == 13
        assert "STALE" not in str(app.query_one(StatusBar).render())

        # Nothing new learned, nothing new to say.
        said = len(notes)
        await pilot.press("r")
        await settle(pilot)
        assert app.is_running
        assert app.last_error is None
        assert len(notes) == said
    assert not path.exists()


# -- 6. the GPU part failing on its own -------------------------------------------------


async def test_gpu_part_failing_keeps_the_grid_stale_and_the_table_fresh(
    make_app: AppFactory,
) -> None:
    app = make_app("gpu-oom", wrap=GpusFailAfterFirst)
    sick = sick_model(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = app.tracker.current
        assert before is not None
        assert len(before.gpus) == 48
        assert not any(g.stale for g in before.gpus)

        # The whole API in view (no model highlighted, so nothing is dimmed for that),
        # then the grid focused: its detail pane follows the cursor.
        await pilot.press("up", "g")
        await settle(pilot)
        assert app.selected == AGGREGATE
        grid = app.query_one(GpuGrid)
        assert grid.highlighted is None
        under = grid.selected
        assert under is not None
        assert under.model == sick
        assert not under.stale
        quiet = [g for g in before.gpus if g.model != sick and (g.mem_ratio or 0) < 0.95]
        assert len(quiet) == 46
        assert not any(cell_style(grid, g).dim for g in quiet)

        assert isinstance(app.clock, FrozenClock)
        app.clock.at += 30
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.source, GpusFailAfterFirst)
        assert app.source.refreshes == 2

        after = app.tracker.current
        assert after is not None
        assert after.gpu_error == GPU_DOWN
        assert after.taken_at == utc(EPOCH + AT_S + 30)
        # The previous GPUs, each marked stale, figures unchanged.
        assert [replace(g, stale=False) for g in after.gpus] == list(before.gpus)
        assert all(g.stale for g in after.gpus)
        assert grid_line(grid, 0).startswith("48 GPUs · 6 nodes")
        assert grid.selected == replace(under, stale=True)
        assert "(stale)" in str(app.query_one(GpuDetail).render())
        assert all(cell_style(grid, g).dim for g in quiet)

        # The health table is fresh.
        assert after.stale_since is None
        assert not any(m.stale for m in after.models)
        table = app.query_one(HealthTable)
        assert row_order(table)[1] == sick
        assert str(table.get_row(sick)[1]) == sick
        assert str(table.get_row(AGGREGATE)[1]) == "Σ all models"
        status = str(app.query_one(StatusBar).render())
        assert "11:17:10Z 0s old" in status
        assert "STALE" not in status
        assert app.last_error is None
        # The top line says why the grid is old, and how old.
        assert "GPU data not read" in status
        assert "the GPU grid shows data 30s old." in status
        assert list(app.causes) == [sick]


# -- 7, 8. gpu_source = "nvml" on a host without NVML, and "none" -----------------------


async def test_nvml_gpu_source_without_nvml_says_so_in_the_grid() -> None:
    probe = NvmlGpus(clock=FrozenClock(EPOCH + AT_S))
    try:
        reading = probe.read()
    finally:
        probe.close()
    if reading.gpus:
        pytest.skip("this host has NVIDIA GPUs that NVML can read")
    assert reading.error is not None
    assert "NVML" in reading.error

    config = load_config(None, env={}, flags={("gpu_source",): "nvml"})
    assert config.gpu_source == "nvml"
    app = build_app("gpu-oom", config=config, nvml=True)
    fleet = demo_of(app).fleet
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert app.is_running
        snapshot = app.tracker.current
        assert snapshot is not None
        assert snapshot.gpus == ()
        assert snapshot.gpu_error == reading.error

        grid = app.query_one(GpuGrid)
        shown = grid_line(grid, 0)
        assert "NVML" in shown
        # One line, cut to the pane's width where it is longer.
        assert reading.error.startswith(shown.removesuffix("…"))
        assert len(shown) >= 40
        assert grid_line(grid, 1) == ""

        table = app.query_one(HealthTable)
        assert sorted(row_order(table)) == sorted([AGGREGATE, *(m.name for m in fleet.models)])
        assert app.last_error is None


async def test_gpu_source_none_shows_no_gpu_data() -> None:
    config = load_config(None, env={}, flags={("gpu_source",): "none"})
    assert config.gpu_source == "none"
    app = build_app("healthy", config=config)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert app.is_running
        snapshot = app.tracker.current
        assert snapshot is not None
        assert snapshot.gpus == ()
        assert snapshot.gpu_error is None
        grid = app.query_one(GpuGrid)
        assert grid_line(grid, 0) == "No GPU data."
        assert grid_line(grid, 1) == ""
        assert app.query_one(HealthTable).row_count == 13
        assert app.causes == {}

        await pilot.press("g")
        await settle(pilot)
        assert app.focused is grid
        assert grid.selected is None
        assert app.is_running
