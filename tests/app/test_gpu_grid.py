"""The GPU grid and its detail pane on their own, fed the simulated gpu-oom fleet at 1024 GPUs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from demo_app import AT_S, frozen_demo_app, settle
from gpu_fleet import at, sim_fleet
from rich.segment import Segment
from textual.app import App, ComposeResult
from textual.geometry import Region

from tui.domain.model import MIB, GpuEvent, GpuProcess, GpuState
from widgets.gpu_detail import HINT, GpuDetail, describe
from widgets.gpu_grid import HEADER, OOM_KINDS, GpuGrid


def find(gpus: Sequence[GpuState], node: str, index: int) -> GpuState:
    return next(g for g in gpus if g.node == node and g.gpu == index)


class GridApp(App[None]):
    AUTO_FOCUS = None  # the tests focus the grid when they mean to

    def __init__(self, gpus: Sequence[GpuState] = (), events: Sequence[GpuEvent] = ()) -> None:
        super().__init__()
        self.gpus = list(gpus)
        self.events = list(events)
        self.selected: list[GpuGrid.GpuSelected] = []

    def compose(self) -> ComposeResult:
        yield GpuGrid()
        yield GpuDetail()

    def on_mount(self) -> None:
        self.query_one(GpuGrid).show(self.gpus, self.events)

    def on_gpu_grid_gpu_selected(self, message: GpuGrid.GpuSelected) -> None:
        self.selected.append(message)
        self.query_one(GpuDetail).show(message.gpu, message.events)


def grid_text(grid: GpuGrid) -> list[str]:
    """What the grid shows on screen now, one string per line."""
    return [grid.render_line(y).text for y in range(grid.scrollable_content_region.height)]


def cell(grid: GpuGrid, gpu: GpuState) -> Segment:
    """The one-character segment that draws ``gpu`` (it must be scrolled into view)."""
    region = grid.cell_region(gpu)
    assert region is not None
    y = region.y - round(grid.scroll_offset.y)
    assert HEADER <= y < grid.scrollable_content_region.height, "cell is scrolled away"
    x = 0
    for segment in grid.render_line(y):
        if x <= region.x < x + len(segment.text):
            return Segment(segment.text[region.x - x], segment.style)
        x += len(segment.text)
    raise AssertionError(f"no cell at x={region.x}")


async def test_80_columns_fit_six_nodes_a_line_with_the_prefix_written_once() -> None:
    gpus, events, _ = sim_fleet()
    app = GridApp(gpus, events)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        grid = app.query_one(GpuGrid)
        lines = grid_text(grid)
        assert lines[0].startswith("1024 GPUs · 128 nodes gpu-node-*")
        assert "util 49%" in lines[0]
        assert lines[1].startswith("mem ▁▂▃▄▅▆▇ █≥95%")
        assert grid.lines == 22  # 128 nodes, six a line
        first = lines[HEADER]
        assert first.startswith("001 ") and " 006 " in first and " 007 " not in first
        assert all("gpu-node" not in line for line in lines[HEADER:])
        assert len(first.rstrip()) <= 79


async def test_200_columns_fit_fifteen_nodes_and_a_resize_lays_out_again() -> None:
    gpus, events, _ = sim_fleet()
    app = GridApp(gpus, events)
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        grid = app.query_one(GpuGrid)
        assert grid.lines == 9  # 128 nodes, fifteen a line
        lines = grid_text(grid)
        assert lines[HEADER].split()[0::2] == [f"{n:03d}" for n in range(1, 16)]
        assert lines[HEADER + 8].split()[0::2] == [f"{n:03d}" for n in range(121, 129)]
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert grid.lines == 22
        assert grid_text(grid)[HEADER + 1].startswith("007 ")


async def test_full_memory_xid_and_oom_cells_read_without_colour() -> None:
    gpus, events, sick = sim_fleet()
    marked = {(e.node, e.gpu) for e in events}
    full = next(g for g in gpus if g.model == sick and (g.node, g.gpu) not in marked)
    assert (full.mem_ratio or 0) >= 0.95
    healthy = next(g for g in gpus if 0.1 <= (g.util_ratio or 0) < 0.5 and g.model != sick)
    xid = next(g for g in gpus if g.xid == 43)
    pod = find(gpus, "gpu-node-040", 2)
    no_data = replace(find(gpus, "gpu-node-002", 5), mem_used_bytes=None, util_ratio=None)
    gpus = [no_data if g.uuid == no_data.uuid else g for g in gpus]
    xid_gpus = {(e.node, e.gpu) for e in events if e.kind == "xid"}
    oom = next(e for e in events if e.kind == "oom" and (e.node, e.gpu) not in xid_gpus)
    both = next(e for e in events if e.kind == "oom" and (e.node, e.gpu) in xid_gpus)
    killed = GpuEvent(at(AT_S), "oomkilled", "OOMKilled (exit 137)", pod=pod.pod)
    app = GridApp(gpus, [*events, killed])
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        grid = app.query_one(GpuGrid)

        c = cell(grid, full)
        assert c.text == "█" and c.style.bold and c.style.color.name == "red"
        c = cell(grid, healthy)
        assert c.text == "▇" and not c.style.bold and c.style.color.name == "green3"
        c = cell(grid, xid)
        assert c.text == "X" and c.style.bgcolor.name == "red" and c.style.color.name == "white"
        c = cell(grid, find(gpus, oom.node, oom.gpu))
        assert c.text == "!" and c.style.bgcolor.name == "red"
        assert cell(grid, find(gpus, both.node, both.gpu)).text == "!"  # OOM outranks XID
        # An OOMKilled is host memory, not the GPU's: the pod's GPUs are not marked.
        for g in gpus:
            if g.pod == pod.pod:
                assert cell(grid, g).text != "!"
        c = cell(grid, no_data)
        assert c.text == "·" and c.style.dim
        summary = grid_text(grid)[0]
        assert "█≥95% 27" in summary
        assert "X xid 2" in summary
        oom_gpus = {(e.node, e.gpu) for e in events if e.kind == "oom"}
        assert f"! oom {len(oom_gpus)}" in summary


async def test_highlight_dims_other_models_and_f_keeps_only_its_nodes() -> None:
    gpus, events, sick = sim_fleet()
    assert sick is not None
    mine = find(gpus, "gpu-node-033", 2)
    other = find(gpus, "gpu-node-001", 0)
    app = GridApp(gpus, events)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        grid = app.query_one(GpuGrid)
        assert not cell(grid, mine).style.underline and not cell(grid, other).style.dim

        grid.highlight(sick)
        await pilot.pause()
        assert cell(grid, mine).style.underline and cell(grid, mine).style.bold
        assert cell(grid, other).style.dim
        # An XID stays loud whatever the highlight.
        xid_other = cell(grid, next(g for g in gpus if g.xid))
        assert xid_other.style.bgcolor.name == "red"

        grid.focus()
        await pilot.press("f")
        await pilot.pause()
        assert grid.filtered
        lines = grid_text(grid)
        assert grid.lines == 1
        assert [w for w in lines[HEADER].split() if w.isdigit()] == ["031", "032", "033", "034"]
        assert f"filter {sick}"[:30] in lines[0]
        assert grid.line_of(other) is None

        await pilot.press("f")
        await pilot.pause()
        assert grid.lines == 22 and "filter" not in grid_text(grid)[0]

        grid.highlight(None)
        await pilot.pause()
        assert not cell(grid, mine).style.underline and not cell(grid, other).style.dim


async def test_cursor_keys_and_e_post_the_gpu_and_its_events() -> None:
    gpus, events, _ = sim_fleet()
    app = GridApp(gpus, events)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        grid = app.query_one(GpuGrid)
        first = find(gpus, "gpu-node-001", 0)
        assert not cell(grid, first).style.reverse  # no cursor until focused
        grid.focus()
        await pilot.pause()
        # Focus lands on the first GPU with something to see, not on the fleet's first.
        flagged = [g for g in sorted_gpus(gpus) if grid.events_for(g)]
        assert app.selected[-1].gpu == flagged[0] != first
        await pilot.press("home")
        assert app.selected[-1].gpu == first
        assert cell(grid, first).text == "◆" and cell(grid, first).style.reverse

        await pilot.press("right")
        assert app.selected[-1].gpu == find(gpus, "gpu-node-001", 1)
        await pilot.press("down")  # same place in the node below: six nodes a line
        assert app.selected[-1].gpu == find(gpus, "gpu-node-007", 1)
        assert cell(grid, first).text == "▇" and not cell(grid, first).style.reverse

        await pilot.press("e")
        hit = app.selected[-1]
        assert (hit.gpu.node, hit.gpu.gpu, hit.gpu.xid) == ("gpu-node-031", 3, 31)
        assert "xid" in {e.kind for e in hit.events}
        assert all(a.at >= b.at for a, b in zip(hit.events, hit.events[1:], strict=False))
        await pilot.press("e")
        assert (app.selected[-1].gpu.node, app.selected[-1].gpu.gpu) == ("gpu-node-031", 4)

        detail = str(app.query_one(GpuDetail).content)
        assert "gpu-node-031" in detail and "GPU 4" in detail and "last XID 43" in detail

        count = len(app.selected)
        await pilot.press("left")
        await pilot.press("right")
        assert len(app.selected) == count + 2


async def test_cursor_scrolls_into_view() -> None:
    gpus, events, _ = sim_fleet()
    app = GridApp(gpus, events)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        grid = app.query_one(GpuGrid)
        grid.focus()
        await pilot.press("end")
        await pilot.pause()
        last = find(gpus, "gpu-node-128", 7)
        assert app.selected[-1].gpu == last
        assert grid.scroll_offset.y > 0
        assert cell(grid, last).style.reverse
        assert grid_text(grid)[0].startswith("1024 GPUs")  # the summary stays put
        await pilot.press("home")
        await pilot.pause()
        assert grid.scroll_offset.y == 0


async def test_one_gpu_changing_refreshes_only_its_line() -> None:
    gpus, events, _ = sim_fleet()
    app = GridApp(gpus, events)
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        grid = app.query_one(GpuGrid)
        target = find(gpus, "gpu-node-050", 4)
        line = grid.line_of(target)
        assert line == 3
        regions: list[Region] = []
        original = grid.refresh

        def spy(*args: Region, **kwargs: bool) -> GpuGrid:
            regions.extend(args if args else [grid.size.region])
            return original(*args, **kwargs)

        grid.refresh = spy  # type: ignore[method-assign]

        # Within its colour step: nothing on screen changes, nothing is refreshed.
        same_step = [replace(g, util_ratio=0.46) if g is target else g for g in gpus]
        grid.show(same_step, events)
        assert regions == []

        summary = grid_text(grid)[0]
        busier = [replace(g, util_ratio=0.97) if g is target else g for g in gpus]
        grid.show(busier, events)
        width = max(grid.virtual_size.width, grid.size.width)
        expected = [Region(0, HEADER + line, width, 1)]
        if grid_text(grid)[0] != summary:
            expected.append(Region(0, 0, grid.size.width, 1))
        assert regions == expected
        assert cell(grid, target).style.color.name == "dark_orange"


async def test_no_gpus_shows_the_message_and_keys_still_work() -> None:
    app = GridApp()
    async with app.run_test(size=(80, 24)) as pilot:
        grid = app.query_one(GpuGrid)
        grid.set_message("No GPU data: NVML is not available on this host.")
        await pilot.pause()
        assert grid_text(grid)[0].startswith("No GPU data: NVML is not available")
        assert grid_text(grid)[1].strip() == ""
        grid.focus()
        for key in ("e", "f", "down", "right", "end"):
            await pilot.press(key)
        assert app.selected == []
        assert str(app.query_one(GpuDetail).content) == HINT

        gpus, events, _ = sim_fleet(models=12, gpus=48)
        grid.show(gpus, events)
        await pilot.pause()
        assert grid_text(grid)[0].startswith("48 GPUs · 6 nodes")
        grid.show([], [])
        await pilot.pause()
        assert grid_text(grid)[0].startswith("No GPU data: NVML")


def test_detail_lists_figures_processes_and_newest_events() -> None:
    gpu = GpuState(
        node="gpu-node-031",
        gpu=4,
        uuid="GPU-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
        model="mixtral-8x7b-instruct",
        pod="vllm-mixtral-8x7b-instruct-97bbd6a01-90cf1",
        namespace="inference",
        util_ratio=0.48,
        mem_used_bytes=81_200 * MIB,
        mem_total_bytes=81_559 * MIB,
        temp_c=57.0,
        power_w=354.4,
        xid=43,
        processes=(GpuProcess(4242, "python3", 79.0 * 1024**3),),
    )
    evs = [
        GpuEvent(at(200 + 45 * k), "oom", f"CUDA out of memory #{k}", gpu.node, gpu.gpu)
        for k in range(5)
    ]
    lines = describe(gpu, evs).plain.splitlines()
    assert lines[0].startswith("gpu-node-031  GPU 4  GPU-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
    assert "mixtral-8x7b-instruct" in lines[1] and "inference/vllm-mixtral" in lines[1]
    assert "util 48%" in lines[2] and "mem 79.3/79.6 GiB 99.6%" in lines[2]
    assert "57°C" in lines[2] and "354 W" in lines[2] and "last XID 43" in lines[2]
    assert lines[3] == "procs 4242 python3 79.0 GiB"
    stamps = [at(200 + 45 * k).strftime("%H:%M:%S") for k in (4, 3, 2)]
    assert [line[:12] for line in lines[4:7]] == [f"{s} UTC" for s in stamps]
    assert "CUDA out of memory #4" in lines[4]
    assert len(lines) == 7


def sorted_gpus(gpus: list[GpuState]) -> list[GpuState]:
    return sorted(gpus, key=lambda g: (g.node, g.gpu))


async def test_focus_starts_on_the_highlighted_models_gpu_with_an_event() -> None:
    gpus, events, _ = sim_fleet()
    sick = next(e.model for e in events if e.kind == "oom")
    app = GridApp(gpus, events)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        grid = app.query_one(GpuGrid)
        grid.highlight(sick)
        grid.focus()
        await pilot.pause()
        chosen = app.selected[-1].gpu
        assert chosen.model == sick and grid.events_for(chosen)
        mine = [g for g in sorted_gpus(gpus) if g.model == sick and grid.events_for(g)]
        assert chosen == mine[0]


async def test_gpu_oom_demo_draws_bang_on_every_gpu_with_an_oom() -> None:
    # The summary counted "! oom 2" while both GPUs showed X: each also had an XID.
    app = frozen_demo_app("gpu-oom")
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        grid = app.query_one(GpuGrid)
        snapshot = app.tracker.current
        assert snapshot is not None
        events = app.tracker.events.all()
        oomed = {
            (g.node, g.gpu)
            for e in events
            if e.kind in OOM_KINDS
            for g in snapshot.gpus
            if (e.node, e.gpu) == (g.node, g.gpu) or (e.gpu is None and e.pod == g.pod)
        }
        with_xid = {(e.node, e.gpu) for e in events if e.kind == "xid"}
        assert len(oomed) >= 2 and oomed & with_xid, (oomed, with_xid)
        for g in snapshot.gpus:
            expected = (
                "!" if (g.node, g.gpu) in oomed else "X" if (g.node, g.gpu) in with_xid else None
            )
            if expected:
                assert cell(grid, g).text == expected, (g.node, g.gpu)
        lines = grid_text(grid)
        assert f"! oom {len(oomed)}" in lines[0]
        assert "! oom, or both" in lines[1]  # the legend says which mark wins
        assert sum(line.count("!") for line in lines[HEADER:]) == len(oomed)
