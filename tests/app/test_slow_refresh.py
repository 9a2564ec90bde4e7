"""A source slower than the refresh interval (issue 21, item 4): the refresh in flight
lands, the next waits for it, and meanwhile the top line says the data is late.

The clock is frozen, so how late is set by the test (`FrozenClock.at`), not by how busy
the machine is; the real waits are polled with a generous bound.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable

import pytest
from demo_app import frozen_demo_app, settle
from textual.pilot import Pilot

from tui.app import WarroomApp
from tui.clock import FrozenClock
from tui.config import load_config
from tui.domain.model import HistoryPoint, Snapshot
from tui.sim.source import DemoSource
from widgets.health_table import HealthTable
from widgets.status_bar import StatusBar

SIZE = (120, 40)
REFRESH_S = 0.5
SLOW_S = 1.5
"""Each refresh takes three refresh intervals."""
BOUND_S = 30.0
"""How long a poll waits before the test fails: generous, for a busy 2-core machine."""


class Slow:
    """The real simulator behind a slow proxy: every refresh sleeps ``SLOW_S``, then waits
    for its gate (open unless the test holds it), counting calls in flight together."""

    def __init__(self, inner: DemoSource) -> None:
        self.inner = inner
        self.description = inner.description
        self.gate = asyncio.Event()
        self.gate.set()
        self.calls = 0
        self.landed = 0
        self.cancelled = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.held = 0
        """Calls slept and waiting at the closed gate."""

    async def refresh(self) -> Snapshot:
        self.calls += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(SLOW_S)
            self.held += 1
            try:
                await self.gate.wait()
            finally:
                self.held -= 1
            snap = await self.inner.refresh()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.in_flight -= 1
        self.landed += 1
        return snap

    async def history(self) -> dict[str, list[HistoryPoint]]:
        return await self.inner.history()

    async def aclose(self) -> None:
        await self.inner.aclose()


def slow_app(*, live: bool) -> tuple[WarroomApp, Slow, FrozenClock]:
    config = load_config(None, env={"WARROOM_REFRESH_S": str(REFRESH_S)})
    assert config.refresh_s == REFRESH_S
    app = frozen_demo_app("gpu-oom", wrap=Slow, config=config)
    app.live = live  # the refresh timer on, as in `warroom`
    assert isinstance(app.source, Slow)
    assert isinstance(app.clock, FrozenClock)
    return app, app.source, app.clock


def status(app: WarroomApp) -> str:
    return str(app.query_one(StatusBar).render())


def painted(app: WarroomApp) -> bool:
    return app.query_one(HealthTable).row_count > 1


async def until(pilot: Pilot[int], what: str, done: Callable[[], bool]) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BOUND_S
    while not done():
        assert loop.time() < deadline, f"still not {what} after {BOUND_S:g}s: {status(pilot.app)!r}"  # type: ignore[arg-type]
        await pilot.pause(0.05)


@pytest.fixture(autouse=True)
def no_gc_freeze(monkeypatch: pytest.MonkeyPatch) -> None:
    """A live cockpit freezes what start-up built; a test's must stay collectable."""
    monkeypatch.setattr(gc, "freeze", lambda: None)


async def test_a_refresh_slower_than_the_interval_lands_and_is_said_late() -> None:
    app, source, clock = slow_app(live=True)
    source.gate.clear()  # the first refresh is held in flight
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, "held", lambda: source.held == 1)
        clock.at += 5
        await until(pilot, "said late", lambda: "refresh slow: 5s in flight" in status(app))
        assert "waiting for first data" in status(app)
        assert app.query_one(StatusBar).has_class("-stale")

        source.gate.set()
        await until(pilot, "painted", lambda: painted(app))
        assert source.landed >= 1
        await until(pilot, "on time", lambda: "refresh slow" not in status(app))
        assert "0s old" in status(app)

        # With data on screen: the next refresh held, the age counts and says why.
        source.gate.clear()
        await until(pilot, "held again", lambda: source.held == 1)
        clock.at += 7
        await until(pilot, "said late", lambda: "refresh slow: 7s in flight" in status(app))
        assert "7s old" in status(app)
        assert app.query_one(StatusBar).has_class("-stale")

        # The ticks meanwhile started nothing: the held refresh is the only one.
        await pilot.pause(SLOW_S)
        assert source.in_flight == source.held == 1
        source.gate.set()
        landed = source.landed
        await until(pilot, "landed again", lambda: source.landed > landed)
        await until(pilot, "on time", lambda: "refresh slow" not in status(app))
        assert source.most_in_flight == 1
        assert source.cancelled == 0
        assert painted(app)


async def test_r_during_a_slow_refresh_cancels_nothing() -> None:
    app, source, _ = slow_app(live=False)
    source.gate.clear()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, "in flight", lambda: source.in_flight == 1)
        await pilot.press("r")
        await pilot.pause()
        assert source.calls == 1
        assert source.cancelled == 0
        notes = [n.message for n in app._notifications]
        assert any("already in flight" in n for n in notes), notes

        source.gate.set()
        await settle(pilot)
        assert source.landed == 1
        assert painted(app)
        await pilot.press("r")  # none in flight now: a refresh starts
        await settle(pilot)
        assert source.calls == source.landed == 2
        assert source.most_in_flight == 1
