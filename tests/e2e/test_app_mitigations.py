"""Pilot tests: mitigations from the cockpit against kmock's Kubernetes emulator — the
menu, the confirmation with its diff (Cancel focused), the change on the Deployment,
the timeline, a second press that is a no-op, RBAC shown before anything is offered,
read-only, and the leaf of a runbook offering its own mitigations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cockpit_pilot import done, idle, press
from demo_app import frozen_demo_app, settle
from kube_emulator import SSAR
from kubernetes.client import ApiClient
from mitigation_rig import (
    DEPLOYMENTS,
    MODEL,
    MODEL_DEPLOYMENT,
    NS,
    app_for,
    choose,
    deployment,
    env_of,
    options,
    stored,
    writes,
)
from rich.text import Text
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import Button, OptionList, Static

from tui.actions.kube import SUPPORTED
from tui.app import WarroomApp
from tui.config import load_config
from tui.store.timeline import Timeline
from widgets.screens.confirm_action import ConfirmAction
from widgets.screens.mitigation_menu import MitigationMenu
from widgets.status_bar import StatusBar

SIZE = (120, 40)


def kinds(tmp_path: Path) -> list[str]:
    return [
        e["kind"]
        for e in Timeline(tmp_path / "t.jsonl").entries()
        if e["kind"].startswith("action.")
    ]


async def test_fallback_shows_its_diff_needs_confirmation_and_is_recorded(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    """The acceptance: in gpu-oom against the emulator, the fallback toggle shows its
    diff, needs confirmation, changes the Deployment's env and lands in the timeline;
    pressing it again says it is already on."""
    app = app_for(api, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "m")
        assert isinstance(app.screen, MitigationMenu)
        assert ("fallback-on", False) in options(app)
        await choose(pilot, "fallback-on")
        assert isinstance(app.screen, ConfirmAction)
        changes = str(app.screen.query_one("#ca-changes", Static).content)
        assert f"Deployment {NS}/llm-gateway" in changes
        assert "env FALLBACK_ENABLED (container main): (unset) -> true" in changes
        assert app.focused is app.screen.query_one("#ca-cancel", Button)
        assert writes(cluster) == [], "nothing is sent before the confirmation"

        app.screen.query_one("#ca-apply", Button).press()
        await done(pilot)
        assert env_of(stored(cluster, "llm-gateway")) == {"FALLBACK_ENABLED": "true"}
        assert kinds(tmp_path) == ["action.requested", "action.succeeded"]

        await press(pilot, "m")
        await choose(pilot, "fallback-on")
        assert not isinstance(app.screen, ConfirmAction), "nothing to confirm"
        notes = [n.message for n in app._notifications]
        assert notes[-1] == "Turn on the fallback provider: already in place, nothing to change."
        assert kinds(tmp_path)[-1] == "action.noop"


@pytest.mark.parametrize("key", ["enter", "n"])
async def test_enter_or_n_on_the_confirmation_cancels(
    key: str, cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    app = app_for(api, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "m")
        await choose(pilot, "fallback-on")
        await press(pilot, key)  # a habitual Enter lands on Cancel
        assert not isinstance(app.screen, ConfirmAction)
        assert writes(cluster) == []
        assert kinds(tmp_path) == ["action.cancelled"]


async def test_rbac_disables_what_the_user_may_not_do(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    cluster.denied.add(("patch", "deployments"))
    app = app_for(api, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "m")
        assert all(disabled for _, disabled in options(app))
        prompt = str(app.screen.query_one(OptionList).get_option_at_index(0).prompt)
        assert f"RBAC does not allow patch on deployments in {NS} (no rule)." in prompt


async def test_read_only_offers_nothing_and_sends_nothing(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    app = app_for(api, tmp_path, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "m")
        assert all(disabled for _, disabled in options(app))
    assert [r for r in cluster if r.method.value != "GET"] == []


async def test_model_mitigations_need_a_selected_model_and_act_on_it(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    app = app_for(api, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.selected == MODEL  # gpu-oom opens on the sick model
        await press(pilot, "m")
        await choose(pilot, "batch-size-cap")
        app.screen.query_one("#ca-apply", Button).press()
        await done(pilot)
        assert env_of(stored(cluster, MODEL_DEPLOYMENT))["MAX_BATCH_SIZE"] == "16"


async def test_scale_to_zero_needs_the_name_typed(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    app = app_for(api, tmp_path, scale_step=2)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "m")
        await choose(pilot, "scale-down")
        apply = app.screen.query_one("#ca-apply", Button)
        assert apply.disabled
        await press(pilot, *MODEL_DEPLOYMENT[:-1])  # the focus starts in the name field
        assert apply.disabled
        app.screen.query_one("#ca-typed").focus()
        await press(pilot, MODEL_DEPLOYMENT[-1])
        assert not apply.disabled
        apply.press()
        await done(pilot)
        assert stored(cluster, MODEL_DEPLOYMENT)["spec"]["replicas"] == 0


async def test_the_runbook_leaf_offers_its_own_mitigations(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    app = app_for(api, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "t", "enter", "enter", "enter", "enter")
        assert app.walk is not None and app.walk.here.id == "oom-mitigate"
        await press(pilot, "a")
        assert isinstance(app.screen, MitigationMenu)
        # The leaf's automated actions only (reduce-max-seqs is a step by hand).
        assert [mid for mid, _ in options(app)] == [
            "batch-size-cap",
            "fallback-on",
            "rollout-restart",
        ]


async def test_the_top_line_says_where_mitigations_act_and_marks_production(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    app = app_for(api, tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        top = str(app.query_one(StatusBar).content)
        assert f"⚙ prod-us-east/{NS}" in top and "PRODUCTION" in top
        await press(pilot, "m")
        await choose(pilot, "fallback-on")
        assert app.screen.has_class("-production")
        where = str(app.screen.query_one("#ca-where", Static).content)
        assert where == f"PRODUCTION · prod-us-east · namespace {NS}"


async def palette_entries(pilot: Pilot[object], query: str) -> list[str]:
    """What the command palette lists for ``query``, typed as the engineer would."""
    pilot.app.action_command_palette()
    await pilot.pause()
    await pilot.press(*query)
    for _ in range(20):  # the palette gathers its providers' hits in a worker
        await pilot.pause(0.05)
    palette = pilot.app.screen
    assert isinstance(palette, CommandPalette)
    entries = [str(o.prompt) for o in palette.query_one(CommandList).options]
    await pilot.press("escape")
    return entries


async def test_the_palette_lists_every_mitigation(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    app = app_for(api, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        entries = [e for e in await palette_entries(pilot, "Mitigate") if "Mitigate:" in e]
        assert len(entries) == len(SUPPORTED), entries


async def test_kiosk_offers_no_mitigation_and_sends_nothing(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    config = load_config(None, env={}, flags={("kiosk",): True})
    app = app_for(api, tmp_path, config=config, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "m")
        assert not isinstance(app.screen, MitigationMenu)
        app.action_mitigate(["fallback-on"])  # as the palette or a runbook leaf would
        await idle(pilot)
        assert not isinstance(app.screen, MitigationMenu)
        assert "kiosk screen" in [n.message for n in app._notifications][-1]
        assert not [e for e in await palette_entries(pilot, "Mitigate") if "Mitigate:" in e]
    assert [r for r in cluster if r.method.value != "GET" and r.resource != SSAR] == []


async def test_without_a_cluster_m_is_shown_dim_and_help_says_why(tmp_path: Path) -> None:
    """Issue 22, item 21: the plain demo offered `m Mitigate` and then said there was no
    cluster. With nothing to act on the key is dim (disabled, not offered) and `?` says
    why first, and how the demo gets a cluster."""
    from widgets.key_hints import KeyHints
    from widgets.screens.help_screen import HelpScreen

    app = frozen_demo_app("gpu-oom", timeline=Timeline(tmp_path / "t.jsonl"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.check_action("mitigate", ()) is None  # shown, disabled
        assert "Mitigate" in app.query_one(KeyHints).render_line(0).text
        await press(pilot, "m")
        assert not isinstance(app.screen, MitigationMenu)
        assert not [n for n in app._notifications if "Kubernetes" in n.message]
        await press(pilot, "question_mark")
        assert isinstance(app.screen, HelpScreen)
        from textual.widgets import Markdown

        first = str(app.screen.query_one(Markdown).source).split("\n\n")[0]
        assert first.startswith("**`m` is dim here.** No Kubernetes API is configured")
        assert "scripts/demo-cluster.py" in first


async def test_a_reason_in_brackets_is_shown_literally(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    app = app_for(api, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        why = "set [mitigations] namespace in the config"
        app.mitigations.blocked = dict.fromkeys(app.mitigations.blocked, why)
        await press(pilot, "m")
        prompt = app.screen.query_one(OptionList).get_option_at_index(0).prompt
        # A plain str prompt is read as markup, which swallows "[mitigations]"; Text is not.
        assert isinstance(prompt, Text)
        assert "set [mitigations] namespace in the config" in prompt.plain


# -- the scale lines say their numbers (issue 22, item 13) ---------------------------------


def prompts(app: WarroomApp) -> dict[str, str]:
    menu = app.screen.query_one(OptionList)
    return {
        str(o.id): str(getattr(o.prompt, "plain", o.prompt))
        for o in (menu.get_option_at_index(i) for i in range(menu.option_count))
    }


async def test_the_menu_says_how_many_replicas_a_scale_leaves(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    cluster.objects[DEPLOYMENTS, NS, MODEL_DEPLOYMENT] = deployment(MODEL_DEPLOYMENT, replicas=4)
    app = app_for(api, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "m")
        await done(pilot)  # the replicas are read once the menu is up
        lines = prompts(app)
        assert lines["scale-up"].startswith(f"Scale {MODEL} from 4 to 6 replicas")
        assert lines["scale-down"].startswith(f"Scale {MODEL} from 4 to 2 replicas")
        assert not [line for line in lines.values() if "-N" in line or "+2" in line]
        assert "stops serving" not in lines["scale-down"]
        # The confirmation says the same numbers.
        await choose(pilot, "scale-up")
        assert isinstance(app.screen, ConfirmAction)
        title = str(app.screen.query_one("#ca-title", Static).content)
        assert title == f"Scale {MODEL} from 4 to 6 replicas"


async def test_scaling_a_one_replica_model_down_says_it_stops_serving(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    cluster.objects[DEPLOYMENTS, NS, MODEL_DEPLOYMENT] = deployment(MODEL_DEPLOYMENT, replicas=1)
    app = app_for(api, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "m")
        await done(pilot)
        down = prompts(app)["scale-down"]
        assert down.startswith(f"Scale {MODEL} from 1 to 0 replicas")
        assert f"This stops serving {MODEL}: no replica is left to answer its requests." in down
        # Chosen anyway: the confirmation says it too, and asks for the name typed.
        await choose(pilot, "scale-down")
        assert isinstance(app.screen, ConfirmAction)
        assert app.screen.query_one("#ca-apply", Button).disabled
        said = " ".join(str(w.content) for w in app.screen.query(Static))
        assert f"This stops serving {MODEL}" in said
    assert writes(cluster) == []


async def test_the_menu_says_the_step_when_the_replicas_cannot_be_read(
    cluster: Any, api: ApiClient, tmp_path: Path
) -> None:
    del cluster.objects[DEPLOYMENTS, NS, MODEL_DEPLOYMENT]
    app = app_for(api, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "m")
        await done(pilot)
        lines = prompts(app)
        assert lines["scale-up"].startswith(f"Scale {MODEL} up by 2 replicas (replicas not read: ")
        assert lines["scale-down"].startswith(f"Scale {MODEL} down by 2 replicas")
