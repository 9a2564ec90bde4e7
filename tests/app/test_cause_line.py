"""The cause line is about the incident, not the selection (issue 22, item 10): moving the
cursor to a healthy model keeps the incident's suspected cause on screen, and no pane
below the table moves a row."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from demo_app import frozen_demo_app, settle
from textual.app import App, ComposeResult

from tui.config import Slo
from tui.domain.assessed import Assessed
from tui.domain.cause import SuspectedCause
from tui.domain.model import AGGREGATE, ModelHealth, Snapshot
from widgets.cause_line import CauseLine
from widgets.health_table import HealthTable
from widgets.history_plots import HistoryPlots


def cause_text(line: CauseLine) -> str:
    return str(line.render())


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_moving_to_a_healthy_model_keeps_the_cause_line_and_the_layout(
    size: tuple[int, int],
) -> None:
    app = frozen_demo_app("gpu-oom")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        table = app.query_one(HealthTable)
        line = app.query_one(CauseLine)
        sick = table.selected_model
        assert sick is not None and sick in app.causes  # opens on the sick model
        assert "GPU OOM" in cause_text(line) and sick in cause_text(line)
        plots_y = app.query_one(HistoryPlots).region.y
        line_region = line.region
        for keys, healthy in [(["down"], True), (["down"], True), (["up", "up", "up"], False)]:
            await pilot.press(*keys)
            await settle(pilot)
            selected = table.selected_model
            assert selected is not None and selected != sick
            assert app.selected == selected
            if healthy:
                assert selected != AGGREGATE and selected not in app.causes
            else:
                assert selected == AGGREGATE
            # The incident's cause, its model named, whatever row is selected...
            assert line.display and not line.has_class("-none")
            assert "GPU OOM" in cause_text(line), (selected, cause_text(line))
            assert sick in cause_text(line)
            # ...and nothing under the table moves.
            assert line.region == line_region
            assert app.query_one(HistoryPlots).region.y == plots_y, selected


def a_cause(model: str, where: str) -> SuspectedCause:
    headline = f"5xx likely downstream of GPU OOM on {where}"
    return SuspectedCause(
        model=model,
        kind="gpu_oom",
        summary=f"{headline} (1 CUDA OOM in the last 30m)",
        headline=headline,
        short=f"GPU OOM {where}",
        gpus=(),
        pods=(),
        counts={"oom": 1},
    )


def judged(causes: dict[str, SuspectedCause]) -> Assessed:
    """A refresh's judgement carrying ``causes``: all the line reads of it."""
    quiet = Snapshot(taken_at=datetime(2026, 1, 1, tzinfo=UTC), source="test", models=(),
                     aggregate=ModelHealth(AGGREGATE))  # fmt: skip
    return replace(Assessed.build(quiet, Slo()), causes=causes)


class LineOnly(App[None]):
    def compose(self) -> ComposeResult:
        yield CauseLine()


async def test_a_model_with_its_own_cause_shows_it_others_show_the_incidents() -> None:
    causes = {"sickest": a_cause("sickest", "node-a GPU 1"), "sick": a_cause("sick", "node-b")}
    app = LineOnly()
    async with app.run_test(size=(120, 5)) as pilot:
        line = app.query_one(CauseLine)
        line.show("sick", judged(causes))
        await pilot.pause()
        assert "◆ sick: 5xx likely downstream of GPU OOM on node-b" in cause_text(line)
        for selected in ("healthy", AGGREGATE, "sickest"):
            line.show(selected, judged(causes))
            await pilot.pause()
            assert "◆ sickest: 5xx likely downstream of GPU OOM on node-a" in cause_text(line)
            assert line.display
        # No cause and no note: nothing to say, whatever is selected.
        for selected in ("healthy", AGGREGATE):
            line.show(selected, judged({}))
            await pilot.pause()
            assert line.has_class("-none") and cause_text(line) == ""
