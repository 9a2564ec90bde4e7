"""The health table's GPU column (issue 22, item 26): the mean utilization of each model's
GPUs, computed from the snapshot outside the widget (`tui.domain.gpu_share`), shown where the
width allows and the first column to go when it does not; `–` for a model with no GPU
data. The KV-cache column stays at every width."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from cockpit_pilot import TableOnly, gpu_oom_snapshot
from demo_app import frozen_demo_app, settle

from tui.app import WarroomApp
from tui.config import load_config
from tui.domain.format import NO_DATA
from tui.domain.gpu_share import gpu_util_by_model
from tui.domain.model import AGGREGATE, GpuState, Snapshot
from tui.sim.source import DemoSource
from widgets.health_table import HealthTable


def gpu(model: str | None, util: float | None, index: int = 0) -> GpuState:
    return GpuState(node="n", gpu=index, uuid=f"GPU-{index}", model=model, util_ratio=util)


def test_the_mean_of_each_models_gpus() -> None:
    gpus = [
        gpu("a", 0.5, 0),
        gpu("a", 0.7, 1),
        gpu("a", None, 2),  # no reading: left out of the mean, not counted as 0
        gpu("b", None, 3),
        gpu(None, 0.1, 4),  # no model holds it
        gpu("c", 1.0, 5),
    ]
    means = gpu_util_by_model(gpus)
    assert means["a"] == pytest.approx(0.6)
    assert means["b"] is None
    assert means["c"] == pytest.approx(1.0)
    assert "d" not in means
    assert means[AGGREGATE] == pytest.approx((0.5 + 0.7 + 1.0) / 3)
    assert gpu_util_by_model([]) == {}


def column_keys(table: HealthTable) -> list[str]:
    return [str(c.key.value) for c in table.ordered_columns]


class WithoutGpusOf:
    """The simulator with one model's GPUs gone from its GPU data."""

    def __init__(self, inner: DemoSource, model: str) -> None:
        self.inner = inner
        self.model = model
        self.description = inner.description

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def refresh(self) -> Snapshot:
        snap = await self.inner.refresh()
        return replace(snap, gpus=tuple(g for g in snap.gpus if g.model != self.model))


async def test_each_model_shows_its_gpus_mean_utilization() -> None:
    bare = "gemma-2-27b-it"
    app = frozen_demo_app("gpu-oom", wrap=lambda demo: WithoutGpusOf(demo, bare))
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        table = app.query_one(HealthTable)
        keys = column_keys(table)
        assert "gpu" in keys and keys.index("gpu") == keys.index("kv") - 1
        snapshot = app.tracker.current
        assert snapshot is not None
        means = gpu_util_by_model(snapshot.gpus)
        for health in (snapshot.aggregate, *snapshot.models):
            cell = table.get_cell(health.model, "gpu").plain
            if health.model == bare:
                assert cell == NO_DATA
            else:
                assert cell == f"{means[health.model] * 100:.0f}%", health.model
        assert table.get_cell(bare, "kv").plain != NO_DATA  # the KV cache is the pod's
        assert "GPU" in app.export_screenshot()


@pytest.mark.parametrize(
    ("size", "gpu_shown", "p50_shown"),
    [((200, 50), True, True), ((120, 40), True, True), ((100, 30), False, True),
     ((80, 24), False, False)],
)  # fmt: skip
async def test_the_gpu_column_goes_first_when_the_width_shrinks(
    size: tuple[int, int], gpu_shown: bool, p50_shown: bool
) -> None:
    app = frozen_demo_app("gpu-oom")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        keys = column_keys(app.query_one(HealthTable))
        assert ("gpu" in keys) == gpu_shown, keys
        assert ("p50" in keys) == p50_shown, keys
        assert "kv" in keys and "p99" in keys and "5xx" in keys


async def test_the_wall_screen_has_no_gpu_column() -> None:
    config = load_config(None, env={}, flags={("display", "wall"): True})
    app: WarroomApp = frozen_demo_app("gpu-oom", config=config)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        assert "gpu" not in column_keys(app.query_one(HealthTable))


async def test_the_table_draws_what_it_is_handed_and_computes_nothing() -> None:
    snapshot, sick = gpu_oom_snapshot()
    app = TableOnly()
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        table = app.query_one(HealthTable)
        table.show(snapshot, gpu_util={sick: 0.934})
        await pilot.pause()
        assert table.get_cell(sick, "gpu").plain == "93%"
        # Every other model: nothing handed over, so no data, though the snapshot has GPUs.
        assert snapshot.gpus
        others = [m.model for m in snapshot.models if m.model != sick]
        assert all(table.get_cell(m, "gpu").plain == NO_DATA for m in others)
        # A new mean for one model rewrites that cell only.
        written: list[tuple[object, object]] = []
        real = table.update_cell

        def counting(row_key: Any, column_key: Any, value: Any, **kw: Any) -> None:
            written.append((row_key, column_key))
            real(row_key, column_key, value, **kw)

        table.update_cell = counting  # type: ignore[method-assign]
        table.show(snapshot, gpu_util={sick: 0.5})
        assert written == [(sick, "gpu")]
        assert table.get_cell(sick, "gpu").plain == "50%"
