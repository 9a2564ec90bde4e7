"""The top line and the 429 line: what they say, and that saying it costs a repaint, not a
new layout of the whole screen, unless their height could change."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Static

from tui.clock import utc
from tui.domain.model import AGGREGATE, KeyRejections, ModelHealth, Snapshot
from widgets.key_rejections import KeyRejectionsLine
from widgets.status_bar import StatusBar

T0 = 1_790_000_000.0
SNAP = Snapshot(
    taken_at=utc(T0),
    source="demo",
    models=(ModelHealth("m"),),
    aggregate=ModelHealth(AGGREGATE),
)


class Lines(App[None]):
    def compose(self) -> ComposeResult:
        yield StatusBar("prometheus http://prom:9090", "prod-us-east")
        yield KeyRejectionsLine()


def layouts(widget: Static) -> list[bool]:
    """Whether each new content ``widget`` is given from now on asks for a layout."""
    asked: list[bool] = []
    update = widget.update

    def spy(content: Any = "", *, layout: bool = True) -> None:
        asked.append(layout)
        update(content, layout=layout)

    widget.update = spy  # type: ignore[method-assign]
    return asked


def text(widget: Static) -> str:
    return str(widget.render())


async def test_the_age_ticking_repaints_the_top_line_without_a_new_layout() -> None:
    app = Lines()
    async with app.run_test(size=(100, 10)):
        bar = app.query_one(StatusBar)
        asked = layouts(bar)
        bar.show(SNAP, T0 + 3)
        assert "3s old" in text(bar)
        bar.show(SNAP, T0 + 4)
        assert "4s old" in text(bar)
        bar.show(SNAP, T0 + 4)  # the same words: nothing at all
        assert asked == [True, False]


async def test_words_that_may_wrap_differently_lay_the_screen_out_again() -> None:
    app = Lines()
    async with app.run_test(size=(100, 10)) as pilot:
        bar = app.query_one(StatusBar)
        bar.show(SNAP, T0 + 9)
        asked = layouts(bar)
        bar.show(SNAP, T0 + 10)  # "9s" to "10s": one cell wider
        error = "Prometheus at http://prom:9090 refused the connection; is it running?"
        bar.show(SNAP, T0 + 10, error=error)  # a second line
        await pilot.pause()
        assert bar.size.height == 2
        bar.show(SNAP, T0 + 11, error=error)
        bar.show(SNAP, T0 + 11)  # back to one line
        await pilot.pause()
        assert bar.size.height == 1
        assert asked == [True, True, False, True]


async def test_the_429_line_never_asks_for_a_layout() -> None:
    app = Lines()
    async with app.run_test(size=(100, 10)):
        line = app.query_one(KeyRejectionsLine)
        asked = layouts(line)
        line.show((KeyRejections("k1", 3.0, 0.75), KeyRejections("k2", 1.0, 0.25)))
        assert "75% from k1" in text(line)
        line.show((KeyRejections("k1", 3.0, 0.75), KeyRejections("k2", 1.0, 0.25)))
        line.show(())
        assert "429s by API key: none" in text(line)
        assert asked == [False, False]


async def test_the_incident_clock_starts_at_the_first_crossing() -> None:
    """gpu-oom breaks its 5xx SLO a few minutes in; frozen 20 minutes in, the top line says
    when the incident began, as the report reckons it, and how long it has run."""
    from demo_app import EPOCH, frozen_demo_app, settle

    app = frozen_demo_app("gpu-oom", at_s=1200)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        assert app.incident_since is not None
        began = app.incident_since - EPOCH
        assert 180 <= began <= 360, began  # the scenario's OOMs start at minute 3
        line = text(app.query_one(StatusBar))
        assert f"incident {utc(app.incident_since):%H:%M}Z, " in line
        report = app.incident_report()
        assert report is not None and report.start == app.incident_since


async def test_a_healthy_fleet_has_no_incident_clock() -> None:
    from demo_app import frozen_demo_app, settle

    app = frozen_demo_app("healthy")
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        assert app.incident_since is None
        assert "incident" not in text(app.query_one(StatusBar))


async def test_at_80_columns_the_top_line_keeps_to_one_row() -> None:
    """What drops first on a narrow screen: the product name, then the incident clock;
    what the line is for (source, freshness, breaching) stays, on one row."""
    from demo_app import frozen_demo_app, settle

    app = frozen_demo_app("bad-canary-p99")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        bar = app.query_one(StatusBar)
        assert bar.size.height == 1
        line = text(bar)
        assert "breaching" in line and " old" in line
        assert "warroom" not in line


async def test_an_incident_holding_only_its_opening_runs_no_clock(tmp_path: Any) -> None:
    """Every cockpit opens its fleet's incident: on a healthy fleet that opening alone is
    no trouble, so no incident clock runs (the report does not start there either)."""
    from demo_app import EPOCH, frozen_demo_app, settle

    from tui.store.incident import live_scope, start

    opened = start(tmp_path, live_scope("prod", "http://prometheus:9090"), utc(EPOCH + 60))
    app = frozen_demo_app("healthy", timeline=opened)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        assert app.incident_since is None
        assert "incident" not in text(app.query_one(StatusBar))
        report = app.incident_report()
        assert report is not None and report.start is None


class LateHistory:
    """The demo source whose history answers only after the first refresh has landed,
    as a slow Prometheus's range queries do behind its instant ones."""

    def __init__(self, demo: Any) -> None:
        self.demo = demo
        self.refreshed = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.demo, name)

    async def refresh(self) -> Snapshot:
        try:
            return await self.demo.refresh()
        finally:
            self.refreshed.set()

    async def history(self) -> Any:
        await asyncio.wait_for(self.refreshed.wait(), timeout=30)
        await asyncio.sleep(0.05)  # after the refresh has painted the top line
        return await self.demo.history()


async def test_the_incident_clock_moves_back_when_the_history_lands_after_the_data() -> None:
    """The top line's incident clock starts at the first crossing in the history: a
    history landing after the first refresh moves it at once, not at the next tick (a
    frozen or paused cockpit has none)."""
    from demo_app import frozen_demo_app, settle

    late: list[LateHistory] = []

    def wrap(demo: Any) -> Any:
        late.append(LateHistory(demo))
        return late[0]

    app = frozen_demo_app("gpu-oom", wrap=wrap)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        await settle(pilot)
        status = str(app.cockpit.query_one(StatusBar).render())
        assert app.incident_since is not None
        assert "incident 11:10Z, 6m20s" in status, status
