"""Screens that close once, however the keys arrive.

Over a laggy SSH link keys arrive in bursts: two enters select twice, `?` `?` closes help
twice. The second lands after the screen has closed, and dismissing again would close
the screen beneath it (the panes, or warroom itself when that is the last one) and
answer a waiting mitigation a second time. Every screen that dismisses takes this guard
from here rather than repeating it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.await_complete import AwaitComplete
from textual.screen import ModalScreen, ScreenResultType

if TYPE_CHECKING:
    from textual.screen import Screen


async def _nothing() -> None:
    return None


class DismissOnce:
    """Mixin for a `Screen`: ``dismiss`` does nothing once the screen is no longer the
    one on top (already closing, or covered)."""

    def dismiss(self, result: Any = None) -> AwaitComplete:
        screen: Screen[Any] = self  # type: ignore[assignment]
        if not screen.is_active:
            return AwaitComplete(_nothing())
        return super().dismiss(result)  # type: ignore[misc]


class SteadyModal(DismissOnce, ModalScreen[ScreenResultType]):
    """A modal screen that answers once."""
