"""Textual's command palette, steady under a burst of keys.

Over a laggy SSH link keys arrive in bursts: ctrl+p and the keys typed after it reach
the palette before it has laid out its list, or after it has closed. Textual 8.2's
palette then ends the cockpit three ways (found by tests/test_key_fuzz.py):

- PgUp or PgDn just after ctrl+p pages a list with no lines yet: KeyError;
- a search still running when the palette closes paints its removed list: NoMatches;
- two enters select twice and dismiss twice, the second popping the panes beneath.

Each guard below lets the key do nothing rather than end the cockpit.
"""

from __future__ import annotations

import contextlib
from typing import Any

from textual.await_complete import AwaitComplete
from textual.command import CommandList, CommandPalette


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
