"""Issue 22 item 7: a canary scenario's faster clock was not shown. The top line read
"17:12:04Z 9s old" at 17:04:40 wall time: the demo's clock ran 10x (`--speed`, the
canary scenarios' default) and nothing said so. The line marks the speed as replay
does (`▶ 10x`); at real time it says nothing more."""

from __future__ import annotations

import pytest
from demo_app import AT_S, EPOCH, settle
from textual.app import App, ComposeResult

from tui.app import WarroomApp
from tui.clock import SimClock, utc
from tui.config import load_config
from tui.domain.model import AGGREGATE, ModelHealth, Snapshot
from tui.refresh.collect import Collector
from tui.sim.source import DemoSource
from widgets.status_bar import StatusBar


def demo_app(scenario: str, speed: float) -> WarroomApp:
    """The cockpit as `warroom --demo --scenario S --speed N` builds it: a `SimClock`."""
    config = load_config(None, env={})
    clock = SimClock(EPOCH, at_s=AT_S, speed=speed)
    demo = DemoSource(scenario, clock=clock, epoch=EPOCH, history_s=0.0)
    return WarroomApp(Collector(demo, config, clock=clock), config, context="simulated", live=False)


def top_line(app: WarroomApp) -> str:
    return str(app.query_one(StatusBar).render())


@pytest.mark.parametrize(("speed", "mark"), [(60.0, "▶ 60x"), (10.0, "▶ 10x"), (2.5, "▶ 2.5x")])
async def test_a_demo_at_speed_says_so_on_the_top_line(speed: float, mark: str) -> None:
    app = demo_app("bad-canary-errors", speed)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        line = top_line(app)
        assert f"simulated {mark}" in line, line
        assert "old" in line  # the figures' age is there too, in the clock's seconds


async def test_a_demo_at_real_time_shows_no_speed() -> None:
    app = demo_app("healthy", 1.0)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        line = top_line(app)
        assert "▶" not in line and "x │" not in line, line
        assert "simulated │" in line


class _Bar(App[None]):
    def __init__(self, speed: float) -> None:
        super().__init__()
        self.speed = speed

    def compose(self) -> ComposeResult:
        yield StatusBar("demo: bad-canary-p99", "simulated", speed=self.speed)


@pytest.mark.parametrize(("speed", "shown"), [(60.0, True), (1.0, False)])
async def test_the_status_bar_marks_a_speed_other_than_one(speed: float, shown: bool) -> None:
    snap = Snapshot(utc(EPOCH), "demo", (ModelHealth("m"),), ModelHealth(AGGREGATE))
    app = _Bar(speed)
    async with app.run_test(size=(100, 5)):
        bar = app.query_one(StatusBar)
        bar.show(snap, EPOCH + 9)
        line = str(bar.render())
        assert ("simulated ▶ 60x │" in line) is shown, line
        assert "9s old" in line
