"""Textual's command palette, steady under a burst of keys.

Over a laggy SSH link keys arrive in bursts: ctrl+p and the keys typed after it reach
the palette before it has laid out its list, or after it has closed. Textual 8.2's
palette then ends the cockpit three ways (found by tests/fuzz/test_key_fuzz.py):

- PgUp or PgDn just after ctrl+p pages a list with no lines yet: KeyError;
- a search still running when the palette closes paints its removed list: NoMatches;
- two enters select twice and dismiss twice, the second popping the panes beneath
  (`widgets.screens.steady.DismissOnce`, as every screen that dismisses).

Each guard below lets the key do nothing rather than end the cockpit.

The palette also offers every action a key offers (`key_commands`, from the key
registry): whoever searches for "report", "runbook" or "sort" finds the key that does it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterable, Iterator
from functools import partial
from typing import Any

from textual.actions import parse as parse_action
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandList, CommandPalette
from textual.dom import DOMNode

from widgets.keymap import BY_ID, Key, current_keymap, say
from widgets.screens.steady import DismissOnce


class SteadyCommandPalette(DismissOnce, CommandPalette):
    def _action_command_list(self, action: str) -> None:
        with contextlib.suppress(KeyError):  # paging a list not laid out yet
            super()._action_command_list(action)

    def _watch__list_visible(self) -> None:
        if self.query(CommandList):  # closed: its widgets are gone, nothing to draw
            super()._watch__list_visible()

    async def _watch__show_busy(self) -> None:
        if self.query(CommandList):
            await super()._watch__show_busy()


def key_commands(
    app: App[Any],
    panes: Iterable[DOMNode],
    run: Callable[[DOMNode, str], Awaitable[object]],
) -> Iterator[SystemCommand]:
    """One palette entry per key the app and each pane bind that the key registry calls
    a command (`Key.not_in_palette` empty). Titled with the key's description (what the
    key line says), its help naming the key it is on now (the config's ``[keys]`` may
    have moved it); an action its node's `check_action` hides or disables is not
    offered, as its key is not. ``run(node, action)`` runs one."""
    keymap = current_keymap(app)
    for node in (app, *panes):
        for key in commands_of(type(node)):
            _, name, parameters = parse_action(key.action)
            if node.check_action(name, parameters) is not True:
                continue
            shown = app.get_key_display(key.display_binding(keymap))
            about = say(key.help, keymap).replace("`", "")  # the help's Markdown code marks
            yield SystemCommand(
                key.description,
                f"{shown} · {about}",
                partial(run, node, key.action),
            )


def commands_of(cls: type[DOMNode]) -> list[Key]:
    """The palette commands among the keys ``cls`` binds: the registry's, in the order
    the class binds them (not those Textual gives every app, screen or table)."""
    ids = [
        binding.id
        for base in cls.__mro__
        if not base.__module__.startswith("textual")
        for binding in Binding.make_bindings(vars(base).get("BINDINGS", []))
        if binding.id in BY_ID
    ]
    return [BY_ID[i] for i in dict.fromkeys(ids) if not BY_ID[i].not_in_palette]
