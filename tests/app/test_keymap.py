"""The one key registry (`widgets.keymap`): every key it holds is bound from it, is in the
help, on the key line where that scope has one (those it puts there), and in the
command palette unless it says why not; the config's ``[keys]`` rebinds a key, and the
help, the key line and the palette follow; a bad ``[keys]`` entry is one sentence."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest
from cockpit_pilot import press
from demo_app import frozen_demo_app, settle
from textual.binding import Binding
from textual.dom import DOMNode
from textual.pilot import Pilot
from textual.widgets import Markdown, Static

from tui.app import WarroomApp
from tui.config import BINDING_IDS, KEY_BINDINGS, Config, load_config
from tui.errors import ConfigError
from widgets.command_palette import commands_of, key_commands
from widgets.filter_bar import FilterBar
from widgets.gpu_grid import GpuGrid
from widgets.health_table import HealthTable
from widgets.key_hints import KeyHints
from widgets.keymap import (
    BY_ID,
    HELP_ROWS,
    KEY_LINE,
    KEYS,
    SCOPES,
    Key,
    Scope,
    current_keymap,
    help_key,
    help_table,
    keys_of,
    say,
    textual_keymap,
)
from widgets.screens.canary_screen import CanaryScreen
from widgets.screens.confirm_action import ConfirmAction
from widgets.screens.help_screen import HelpScreen
from widgets.screens.mitigation_menu import MitigationMenu
from widgets.screens.quit_confirm import QuitConfirm
from widgets.screens.report_form import ReportForm
from widgets.screens.runbook_screen import RunbookPicker, RunbookScreen

SIZE = (200, 50)
BOUND_BY: dict[type[DOMNode], tuple[str, ...]] = {
    WarroomApp: ("cockpit", "replay"),
    HealthTable: ("table",),
    GpuGrid: ("grid",),
    FilterBar: ("filter",),
    RunbookScreen: ("runbook",),
    RunbookPicker: ("picker",),
    CanaryScreen: ("canary",),
    HelpScreen: ("help",),
    QuitConfirm: ("quit",),
    ConfirmAction: ("confirm",),
    MitigationMenu: ("menu",),
    ReportForm: ("report",),
}
"""Each class and the scopes of the registry its ``BINDINGS`` are."""


def own_bindings(cls: type[DOMNode]) -> list[Binding]:
    return list(Binding.make_bindings(vars(cls)["BINDINGS"]))


def config_with(tmp_path: Path, toml: str) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(toml)
    return load_config(path, env={})


# -- one registry -------------------------------------------------------------------------


def test_each_binding_has_one_id_in_a_known_scope() -> None:
    assert len(BY_ID) == len(KEYS)
    assert set(SCOPES) == set(get_args(Scope))
    assert all(key.scope in SCOPES and key.id.count(".") == 1 for key in KEYS)


def test_every_class_binds_its_scopes_from_the_registry() -> None:
    assert {s for scopes in BOUND_BY.values() for s in scopes} == set(SCOPES)
    for cls, scopes in BOUND_BY.items():
        bound = own_bindings(cls)
        assert all(b.id in BY_ID for b in bound), cls
        # Each key of each binding, exactly as the registry says, ids and all.
        expected = [
            (key, k.action, k.description, k.show, k.key_display, k.priority, k.id)
            for k in KEYS
            if k.scope in scopes
            for key in keys_of(k)
        ]
        got = [(b.key, b.action, b.description, b.show, b.key_display, b.priority, b.id)
               for b in bound]  # fmt: skip
        assert got == expected, cls


def test_the_config_knows_every_binding_id_in_the_registrys_order() -> None:
    assert set(BY_ID) == BINDING_IDS
    for scope, names in KEY_BINDINGS.items():
        assert [k.id for k in KEYS if k.scope == scope] == [f"{scope}.{n}" for n in names]


def test_every_key_that_is_not_a_palette_command_says_why() -> None:
    not_commands = {k.id: k.not_in_palette for k in KEYS if k.not_in_palette}
    assert {"cockpit.palette", "cockpit.quit_now", "table.up", "grid.left"} <= set(not_commands)
    assert all(why.strip() for why in not_commands.values())


# -- the help ------------------------------------------------------------------------------


def tokens(cell: str) -> set[str]:
    """The keys a help cell names: "y / n / 1-9 (runbook)" -> {y, n, 1, …, 9, runbook}."""
    found: set[str] = set()
    for token in re.split(r" / |, | |\(|\)", cell.replace("\\|", "|")):
        if m := re.fullmatch(r"(\d)-(\d)", token):
            found |= {str(n) for n in range(int(m[1]), int(m[2]) + 1)}
        elif token:
            found.add(token)
    return found


def key_cells(markdown: str) -> list[str]:
    """The key column of the help's table, top to bottom."""
    table = markdown.split("# warroom keys\n\n", 1)[1].split("\n\n", 1)[0]
    return [line[2:].split(" | ", 1)[0] for line in table.splitlines()[2:]]


def test_every_key_in_the_registry_is_in_the_help() -> None:
    assert {i for row in HELP_ROWS for i in row.ids} == set(BY_ID)
    cells = key_cells(f"# warroom keys\n\n{help_table()}\n")
    assert len(cells) == len(HELP_ROWS)
    for key in KEYS:
        rows = [cells[n] for n, row in enumerate(HELP_ROWS) if key.id in row.ids]
        for name in keys_of(key):
            assert any(help_key(name) in tokens(cell) for cell in rows), (key.id, name, rows)


def test_the_help_keeps_todays_lines_for_todays_keys() -> None:
    table = help_table()
    for line in (
        "| ↑ ↓ PgUp PgDn Home End | move the selection; the plots follow it |",
        "| y / n (runbook) | answer the question; at a check, y / 1-9 copy a command (OSC 52, "
        "over SSH) |",
        "| backspace / r / p (runbook) | back one step / start over / pick another runbook |",
        "| p / P / A (canary) | pause or resume / promote now / abort, drained (P and A confirm "
        "first) |",
        "| space, [ ], { } (replay) | pause / resume, back or forward a minute, ten minutes |",
        "| / | filter the table by name: enter keeps it, escape clears it |",
        "| q | quit; asks first (y / n) while a model breaches, the incident is open or a drive "
        "runs |",
        '| ctrl+p | command palette: every key\'s action by name ("report"…), each "Mitigate: …" |',
    ):
        assert line in table.splitlines()


def test_a_rebound_key_is_the_one_the_help_names() -> None:
    keymap = {"cockpit.runbook": "T", "runbook.copy_3": "f3", "table.down": "j"}
    lines = help_table(keymap).splitlines()
    assert "| T | the runbook navigator: opens on the tree for the worst symptom |" in lines
    assert "| ↑ j PgUp PgDn Home End | move the selection; the plots follow it |" in lines
    assert "| escape / t (runbook) | back to the panes; `T` resumes where you were |" in lines
    assert "| 1 / 2 / f3 / 4 / 5 / 6 / 7 / 8 / 9 (runbook, at a check) |" in " ".join(lines)


# -- the key line ---------------------------------------------------------------------------


def hinted(app: WarroomApp) -> dict[str, str]:
    """The key line now: binding id -> the key shown for it."""
    line = app.screen.query_one(KeyHints)
    keys = [key for key, _, _ in line.hints[0]]
    assert len(keys) == len(line.hint_ids)
    return dict(zip(line.hint_ids, keys, strict=True))


async def every_key_line(pilot: Pilot[object], app: WarroomApp) -> dict[str, str]:
    """The key lines of the panes (the table's, the grid's, a filter typed and kept, a
    replay's) and of the navigator (at a question and at a check), together."""
    seen: dict[str, str] = {}
    await settle(pilot)
    seen |= hinted(app)
    await press(pilot, "g")
    seen |= hinted(app)
    await press(pilot, "g", "t")
    seen |= hinted(app)  # a question
    await press(pilot, "n", "n", "y")
    assert app.walk is not None and app.walk.here.id == "xid-check"
    seen |= hinted(app)  # a check: y copies
    await press(pilot, "escape", "slash", "l", "l")
    seen |= hinted(app)  # typing: the field's escape
    await press(pilot, "enter")
    seen |= hinted(app)  # kept: the panes' escape clears it
    return seen


async def test_every_key_the_registry_puts_on_a_key_line_is_there_on_its_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = frozen_demo_app("gpu-oom")
    checked = app.check_action
    # The replay's keys, as a replay enables them (the rest of the cockpit as it is).
    monkeypatch.setattr(
        app, "check_action", lambda a, p: True if a.startswith("replay_") else checked(a, p)
    )
    async with app.run_test(size=SIZE) as pilot:
        seen = await every_key_line(pilot, app)
        on_a_line = {k.id for k in KEYS if k.show and k.scope in KEY_LINE}
        assert set(seen) == on_a_line
        for binding_id, shown in seen.items():
            assert shown == app.get_key_display(BY_ID[binding_id].display_binding()), binding_id


async def test_the_screens_without_a_key_line_have_none() -> None:
    app = frozen_demo_app("gpu-oom")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key, screen in (("c", CanaryScreen), ("question_mark", HelpScreen)):
            await press(pilot, key)
            assert isinstance(app.screen, screen)
            assert not app.screen.query(KeyHints)
            await press(pilot, "escape")


# -- the command palette -------------------------------------------------------------------


def test_each_class_offers_the_palette_its_scopes_commands() -> None:
    for cls, scopes in BOUND_BY.items():
        expected = [k for k in KEYS if k.scope in scopes and not k.not_in_palette]
        assert commands_of(cls) == expected, cls


def palette_says(key: Key, app: WarroomApp) -> str:
    return app.get_key_display(key.display_binding(current_keymap(app))) + " · "


async def nothing(node: DOMNode, action: str) -> None:
    return None


async def test_every_cockpit_command_is_in_the_palette_on_its_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With every action allowed (a replay, a cluster, a filter kept), the panes' palette
    entries hold each command of the cockpit, the replay, the table and the grid."""
    app = frozen_demo_app("gpu-oom")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        panes = [app.query_one(HealthTable), app.query_one(GpuGrid)]
        for node in (app, *panes):
            monkeypatch.setattr(node, "check_action", lambda a, p: True)
        offered = {c.title: c.help for c in key_commands(app, panes, nothing)}
        panes = ("cockpit", "replay", "table", "grid")
        for key in (k for k in KEYS if k.scope in panes and not k.not_in_palette):
            assert offered[key.description].startswith(palette_says(key, app)), key.id


async def test_the_navigators_commands_are_in_its_palette() -> None:
    app = frozen_demo_app("gpu-oom")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "t")
        offered = {c.title for c in app.get_system_commands(app.screen)}
        # At a question: Copy is the check's, off here as its key is.
        at_hand = [k for k in commands_of(RunbookScreen) if k.id != "runbook.copy"]
        assert {k.description for k in at_hand} <= offered
        assert "Copy" not in offered


# -- rebinding ------------------------------------------------------------------------------

REBOUND = """\
[keys]
"cockpit.runbook" = "T"
table.down = ["j", "down"]
"""


async def test_a_rebinding_in_the_config_moves_the_key_and_everything_says_so(
    tmp_path: Path,
) -> None:
    config = config_with(tmp_path, REBOUND)
    assert config.keys == {"cockpit.runbook": "T", "table.down": "j,down"}
    app = frozen_demo_app("gpu-oom", config=config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # The key line and the palette show the new key.
        assert hinted(app)["cockpit.runbook"] == "T"
        assert " T Runbook " in app.query_one(KeyHints).render_line(0).text
        commands = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert commands["Runbook"].startswith("T · ")
        # The old key does nothing; the new one opens the navigator.
        await press(pilot, "t")
        assert not isinstance(app.screen, RunbookScreen)
        await press(pilot, "T")
        assert isinstance(app.screen, RunbookScreen)
        await press(pilot, "escape")
        # j moves the table's selection, down still does.
        table = app.query_one(HealthTable)
        row = table.cursor_row
        await press(pilot, "j")
        assert table.cursor_row == row + 1
        await press(pilot, "down")
        assert table.cursor_row == row + 2
        # The help names the new keys.
        await press(pilot, "question_mark")
        assert isinstance(app.screen, HelpScreen)
        source = str(app.screen.query_one(Markdown).source)
        assert "| T | the runbook navigator" in source
        assert "| ↑ j / ↓ PgUp PgDn Home End |" in source
        assert "| t | the runbook navigator" not in source


async def test_rebinding_one_of_two_bindings_on_a_key_keeps_the_other(tmp_path: Path) -> None:
    """`y` is a question's Yes and a check's Copy: Yes moved to `j`, `y` still copies."""
    app = frozen_demo_app("gpu-oom", config=config_with(tmp_path, '[keys]\nrunbook.yes = "j"'))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "t", "n", "n", "j")
        assert app.walk is not None and app.walk.here.id == "xid-check"
        assert hinted(app)["runbook.copy"] == "y"
        await press(pilot, "y")
        assert app.clipboard.startswith("DCGM_FI_DEV_XID_ERRORS")


def quit_keys(app: WarroomApp) -> str:
    return str(app.screen.query_one("#quit-keys", Static).render())


async def test_the_quit_question_names_the_keys_that_answer_it(tmp_path: Path) -> None:
    assert say("{quit.yes}  quit    {quit.no}  stay", every=True) == (
        "y / enter  quit    n / escape  stay"
    )
    app = frozen_demo_app("gpu-oom", config=config_with(tmp_path, '[keys]\nquit.yes = "j"'))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "q")  # a model breaches: it asks
        assert isinstance(app.screen, QuitConfirm)
        assert quit_keys(app) == "j  quit    n / escape  stay"
        await press(pilot, "y")
        assert isinstance(app.screen, QuitConfirm), "y no longer quits"


# -- bad [keys] entries ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ('"cockpit.runbok" = "T"', "'cockpit.runbok' names no key binding; the nearest is "
         "cockpit.runbook"),
        ('cockpit.zzz = "T"', "'cockpit.zzz' names no key binding; those of cockpit are quit, "
         "help, refresh"),
        ('nowhere.runbook = "T"', "'nowhere.runbook' names no key binding; the nearest is "
         "cockpit.runbook"),
        ('foo.bar = "T"', "an id is scope.name, the scopes being cockpit, replay"),
        ('"cockpit.runbook" = "ctrl+pgae"', "'ctrl+pgae' (for cockpit.runbook) is not a key"),
        ('"cockpit.runbook" = ""', "cockpit.runbook is given no key"),
        ('"cockpit.runbook" = 3', 'the key of cockpit.runbook must be a string such as "ctrl+t"'),
    ],
)  # fmt: skip
def test_a_bad_keys_entry_is_one_sentence_naming_it(tmp_path: Path, toml: str, says: str) -> None:
    with pytest.raises(ConfigError) as err:
        config_with(tmp_path, f"[keys]\n{toml}\n")
    message = str(err.value)
    assert message.startswith(f"Config file {tmp_path / 'config.toml'}: key keys is invalid: ")
    assert says in message
    assert message.endswith(".") and ". " not in message.replace(str(tmp_path), "")


def test_a_key_given_to_two_bindings_live_at_once_is_one_sentence(tmp_path: Path) -> None:
    config = config_with(tmp_path, '[keys]\n"cockpit.runbook" = "m"')
    with pytest.raises(ConfigError) as err:
        frozen_demo_app("gpu-oom", config=config)
    assert str(err.value) == (
        "The config's [keys] give 'm' to both cockpit.mitigate and cockpit.runbook; give one "
        "of them another key."
    )
    # A pane's key before the app's: the table's s would hide the runbook's.
    with pytest.raises(ConfigError, match=re.escape("'s' to both cockpit.runbook and table.sort")):
        textual_keymap({"cockpit.runbook": "s"})
    # Keys the registry already shares stay shared (the grid's e before the report's).
    assert textual_keymap({"grid.filter": "x"}) == {"grid.filter": "x"}
