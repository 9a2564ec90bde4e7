"""Textual's command palette, steady under a burst of keys.

Over a laggy SSH link keys arrive in bursts: ctrl+p and the keys typed after it reach
the palette before it has laid out its list, or after it has closed. Textual 8.2's
palette then ends the cockpit three ways (found by tests/test_key_fuzz.py):

- PgUp or PgDn just after ctrl+p pages a list with no lines yet: KeyError;
- a search still running when the palette closes paints its removed list: NoMatches;
- two enters select twice and dismiss twice, the second popping the panes beneath.

Each guard below lets the key do nothing rather than end the cockpit.

The palette also offers every action a key offers (`key_commands`): whoever searches
for "report", "runbook" or "sort" finds the key that does it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterable, Iterator
from functools import partial
from typing import Any

from textual.actions import parse as parse_action
from textual.app import App, SystemCommand
from textual.await_complete import AwaitComplete
from textual.binding import Binding
from textual.command import CommandList, CommandPalette
from textual.dom import DOMNode


class SteadyCommandPalette(CommandPalette):
    def _action_command_list(self, action: str) -> None:
        with contextlib.suppress(KeyError):  # paging a list not laid out yet
            super()._action_command_list(action)

    def _watch__list_visible(self) -> None:
        if self.query(CommandList):  # closed: its widgets are gone, nothing to draw
            super()._watch__list_visible()

    async def _watch__show_busy(self) -> None:
        if self.query(CommandList):
            await super()._watch__show_busy()

    def dismiss(self, result: Any = None) -> AwaitComplete:
        if not self.is_active:  # a second selection in the same burst: already closing
            return AwaitComplete(_nothing())
        return super().dismiss(result)


async def _nothing() -> None:
    return None


def key_commands(
    app: App[Any],
    panes: Iterable[DOMNode],
    run: Callable[[DOMNode, str], Awaitable[object]],
) -> Iterator[SystemCommand]:
    """One palette entry per action a key offers: the app's own keys, then each pane's
    keys that the key line shows. Titled with the key's description (what the key line
    says), its help naming the key; an action its node's `check_action` hides or
    disables is not offered, as its key is not. ``run(node, action)`` runs one."""
    seen: set[tuple[int, str]] = set()
    for node in (app, *panes):
        # The cockpit's own keys, not those Textual gives every app, screen or table.
        own = [
            binding
            for cls in type(node).__mro__
            if not cls.__module__.startswith("textual")
            for binding in Binding.make_bindings(vars(cls).get("BINDINGS", []))
        ]
        for binding in own:
            if not binding.description or binding.system:
                continue
            if node is not app and not binding.show:
                continue  # a pane's cursor keys: no command to look for
            if (id(node), binding.action) in seen:
                continue
            seen.add((id(node), binding.action))
            _, name, parameters = parse_action(binding.action)
            if node.check_action(name, parameters) is not True:
                continue
            key = app.get_key_display(binding)
            about = binding.tooltip or binding.description
            yield SystemCommand(
                binding.description, f"{key} · {about}", partial(run, node, binding.action)
            )
