"""Issue 22 item 3: the typed-name confirmation cancelled itself. Focus started on
Cancel, so the first `n` of `llm-gateway-canary` cancelled the abort and the canary
kept ramping. Where a name must be typed, the focus starts in the field, every letter
lands there, and Enter applies once the name is whole; the same screen confirms the
mitigation menu's destructive plans (a scale to zero on a production context)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cockpit_pilot import done, held, held_good_canary, idle, kinds, press, until
from demo_app import settle
from kubernetes.client import ApiClient
from mitigation_rig import MODEL_DEPLOYMENT, app_for, choose, stored
from textual.widgets import Button, Input

from tui.store.timeline import Timeline
from widgets.screens.confirm_action import ConfirmAction
from widgets.screens.mitigation_menu import MitigationMenu

SIZE = (100, 40)
CANARY = "llm-gateway-canary"


async def test_abort_typed_letter_by_letter_then_enter_rolls_back(tmp_path: Path) -> None:
    app, drive, timeline = held_good_canary(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await held(pilot, drive)
        await pilot.press("A")
        await idle(pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmAction)
        field = confirm.query_one("#ca-typed", Input)
        assert app.focused is field
        # A prompt, not something that reads as the name already typed.
        assert field.placeholder == f"type {CANARY} to confirm"
        assert field.value == ""
        for letter in CANARY:
            await pilot.press(letter)
        await idle(pilot)
        assert app.screen is confirm, "a letter of the name cancelled the confirmation"
        assert field.value == CANARY
        assert not confirm.query_one("#ca-apply", Button).disabled
        await pilot.press("enter")
        await idle(pilot)
        assert not isinstance(app.screen, ConfirmAction)
        drive.until = float("inf")
        state = await until(pilot, drive, "rolled-back", "failed")
        assert state.phase == "rolled-back"
    recorded = kinds(timeline)
    assert "action.cancelled" not in recorded
    assert "canary.abort-requested" in recorded
    assert recorded[-3:] == ["action.step", "action.succeeded", "canary.rolled-back"]


async def test_enter_on_a_part_of_the_name_applies_nothing(tmp_path: Path) -> None:
    app, drive, timeline = held_good_canary(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await held(pilot, drive)
        await pilot.press("A", "enter")  # Enter by habit in the empty field
        await idle(pilot)
        assert isinstance(app.screen, ConfirmAction)
        for letter in CANARY[:-1]:
            await pilot.press(letter)
        await pilot.press("enter")
        await idle(pilot)
        assert isinstance(app.screen, ConfirmAction)
        await pilot.press("escape")
        await idle(pilot)
        assert drive.driver is not None and drive.driver.state.phase == "ramping"
    assert "canary.abort-requested" not in kinds(timeline)


async def test_the_mitigation_menus_scale_to_zero_is_typed_in_the_field_on_production(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    """The other path through the same confirmation: the menu, on a context named prod."""
    app = app_for(api, tmp_path, scale_step=2)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.mitigations.production
        await press(pilot, "m")
        assert isinstance(app.screen, MitigationMenu)
        await choose(pilot, "scale-down")
        confirm = app.screen
        assert isinstance(confirm, ConfirmAction) and confirm.production
        assert app.focused is confirm.query_one("#ca-typed", Input)
        for letter in MODEL_DEPLOYMENT:  # "vllm-codellama-34b-instruct" holds an n
            await pilot.press(letter)
        await pilot.press("enter")
        await done(pilot)
        assert stored(cluster, MODEL_DEPLOYMENT)["spec"]["replicas"] == 0
    entries = [e["kind"] for e in Timeline(tmp_path / "t.jsonl").entries()]
    assert "action.cancelled" not in entries and "action.succeeded" in entries


async def test_a_plan_with_no_name_to_type_still_starts_on_cancel(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    app = app_for(api, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await press(pilot, "m")
        await choose(pilot, "fallback-on")
        assert isinstance(app.screen, ConfirmAction)
        assert not app.screen.query(Input)
        assert app.focused is app.screen.query_one("#ca-cancel", Button)
