"""No terminal size breaks the cockpit: a storm of resizes from 40x12 to 300x80, with
keys that switch panes and screens in between. After it: the app still runs, no
exception reached Textual, and the panes come back at 80x24."""

from __future__ import annotations

import pytest
from cockpit_pilot import assert_alive
from demo_app import frozen_demo_app, settle
from textual.pilot import Pilot

from tui.app import WarroomApp


async def back_to_the_panes(pilot: Pilot[object], app: WarroomApp) -> None:
    for _ in range(8):
        if len(app.screen_stack) == 1:
            return
        await pilot.press("escape")
        await pilot.pause()
    while len(app.screen_stack) > 1:  # a form whose Escape went to a dropdown first
        app.pop_screen()
        await pilot.pause()


@pytest.mark.parametrize("scenario", ["gpu-oom", "bad-canary-p99"])
async def test_a_storm_of_resizes(scenario: str) -> None:
    import random

    sizes = [(80, 24), (300, 80), (40, 12), (200, 50), (81, 25), (159, 40), (160, 40)]
    rng = random.Random(7)
    sizes += [(rng.randint(40, 300), rng.randint(12, 80)) for _ in range(25)]
    app = frozen_demo_app(scenario)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for i, (w, h) in enumerate(sizes):
            await pilot.resize_terminal(w, h)
            if i % 3 == 0:
                await pilot.press(rng.choice(["g", "c", "escape", "t", "escape"]))
            await pilot.pause()
        assert_alive(app)
        await back_to_the_panes(pilot, app)
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert app.size == (80, 24)
        assert_alive(app)
