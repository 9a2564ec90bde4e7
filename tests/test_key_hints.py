"""The key line at the bottom: the focused pane's keys and the cockpit's, whole or not at
all, the command palette's key on the right."""

from __future__ import annotations

import pytest
from demo_app import frozen_demo_app, settle

from widgets.key_hints import KeyHints


def descriptions(app) -> list[str]:  # type: ignore[no-untyped-def]
    hints, _ = app.query_one(KeyHints).hints
    return [description for _, description, _ in hints]


async def test_the_keys_follow_the_focused_pane() -> None:
    app = frozen_demo_app("gpu-oom")
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        assert "Sort" in descriptions(app) and "Next event" not in descriptions(app)
        await pilot.press("g")
        await settle(pilot)
        assert {"Next event", "Filter model"} <= set(descriptions(app))
        assert "Sort" not in descriptions(app)
        line = app.query_one(KeyHints).render_line(0).text
        assert " e Next event " in line and line.rstrip().endswith("^p palette")
        await pilot.press("g")
        await settle(pilot)
        assert "Sort" in descriptions(app)


@pytest.mark.parametrize("width", [80, 60])
async def test_a_narrow_line_drops_whole_keys_and_keeps_the_palette(width: int) -> None:
    app = frozen_demo_app("healthy")
    async with app.run_test(size=(width, 24)) as pilot:
        await settle(pilot)
        line = app.query_one(KeyHints).render_line(0).text
        assert len(line) == width
        assert line.rstrip().endswith("^p palette")
        shown = [d for d in descriptions(app) if f" {d} " in line]
        assert shown and shown == descriptions(app)[: len(shown)]
        # What does not fit is gone whole: no key without its description before the rule.
        before_rule = line.split("▏")[0].rstrip()
        assert before_rule.endswith(shown[-1])
