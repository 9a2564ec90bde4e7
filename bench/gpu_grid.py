"""What the GPU grid costs at 1024 GPUs (128 nodes) on a 200x40 grid.

Three figures, each the median (and 95th percentile) over ``--runs``:

- first paint: a freshly mounted grid is given the fleet, lays it out and renders every
  line on screen;
- one GPU changed: `GpuGrid.show` where one GPU's utilization crossed a colour step, then
  the rendering of the lines it refreshed;
- every GPU changed: the same where every GPU crossed a colour step.

Timings cover the widget's own work (``show`` and ``render_line``), not Textual's
compositor or the terminal. The fleet is the simulator's gpu-oom scenario ten minutes in.
Run from the repository root:

    .venv/bin/python bench/gpu_grid.py [--runs 50]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from gpu_fleet import sim_fleet  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.containers import Vertical  # noqa: E402
from textual.geometry import Region  # noqa: E402

from tui.domain.model import GpuEvent, GpuState  # noqa: E402
from widgets.gpu_grid import GpuGrid  # noqa: E402

SIZE = (200, 40)


class Bench(App[None]):
    AUTO_FOCUS = None

    def compose(self) -> ComposeResult:
        yield Vertical(id="host")


def spy_regions(grid: GpuGrid) -> list[Region]:
    """Record every region the grid asks Textual to repaint."""
    regions: list[Region] = []
    original = grid.refresh

    def spy(*args: Region, **kwargs: bool) -> GpuGrid:
        regions.extend(args if args else [grid.size.region])
        return original(*args, **kwargs)

    grid.refresh = spy  # type: ignore[method-assign]
    return regions


def render_regions(grid: GpuGrid, regions: Sequence[Region]) -> int:
    """Render the lines the regions cover, as Textual would on its next frame; how many."""
    ys = {y for r in regions for y in range(max(0, r.y), min(r.bottom, grid.size.height))}
    for y in ys:
        grid.render_line(y)
    return len(ys)


def ms(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples) * 1000, statistics.quantiles(samples, n=20)[-1] * 1000


async def measure(runs: int) -> list[tuple[str, float, float, str]]:
    gpus, events, _ = sim_fleet()
    # Two versions of the fleet for each kind of change, shown alternately so that every
    # timed call really changes what is on screen.
    target = len(gpus) // 2
    one_a = list(gpus)
    one_b = [replace(g, util_ratio=0.97) if i == target else g for i, g in enumerate(gpus)]
    all_a = [replace(g, util_ratio=0.05) for g in gpus]
    all_b = [replace(g, util_ratio=0.97) for g in gpus]

    app = Bench()
    out: list[tuple[str, float, float, str]] = []
    async with app.run_test(size=SIZE) as pilot:
        host = app.query_one("#host")
        first: list[float] = []
        for _ in range(runs):
            grid = GpuGrid()
            await host.mount(grid)
            await pilot.pause()
            start = time.perf_counter()
            grid.show(gpus, events)
            for y in range(grid.size.height):
                grid.render_line(y)
            first.append(time.perf_counter() - start)
            height = grid.size.height
            await grid.remove()
        out.append(("first paint", *ms(first), f"{height} (every line on screen)"))

        grid = GpuGrid()
        await host.mount(grid)
        await pilot.pause()
        regions = spy_regions(grid)

        async def changes(
            a: list[GpuState], b: list[GpuState], evs: Sequence[GpuEvent]
        ) -> tuple[list[float], set[int]]:
            grid.show(a, evs)
            await pilot.pause()
            samples: list[float] = []
            counts: set[int] = set()
            for i in range(runs):
                data = b if i % 2 == 0 else a
                regions.clear()
                start = time.perf_counter()
                grid.show(data, evs)
                counts.add(render_regions(grid, regions))
                samples.append(time.perf_counter() - start)
                await pilot.pause()
            return samples, counts

        samples, counts = await changes(one_a, one_b, events)
        out.append(("one GPU changed", *ms(samples), _lines(counts)))
        samples, counts = await changes(all_a, all_b, events)
        out.append(("every GPU changed", *ms(samples), _lines(counts)))
    return out


def _lines(counts: set[int]) -> str:
    """Lines repainted; the same on every run unless the summary's rounded mean moved."""
    return "/".join(str(c) for c in sorted(counts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    print(f"GpuGrid, 1024 GPUs on 128 nodes, {SIZE[0]}x{SIZE[1]}, {args.runs} runs")
    print(f"{'case':<18} {'ms p50':>7} {'ms p95':>7}  lines repainted")
    for case, p50, p95, lines in asyncio.run(measure(args.runs)):
        print(f"{case:<18} {p50:>7.2f} {p95:>7.2f}  {lines}", flush=True)


if __name__ == "__main__":
    main()
