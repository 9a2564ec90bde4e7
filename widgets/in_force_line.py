"""The lasting line of what is in force: ``in force: fallback on since 14:05Z · batch cap
16 on llama-70b since 14:02Z``.

Three changes into an incident nobody remembers which switch is still thrown; this line
says it, from the timeline (`tui.domain.annotations`). It shows only while something is in
force, so it appears once with the first change and stays while anything holds: the
plots above it give up one row, nothing else moves.

Laid out for the width it has: whole entries only, the most recent first, then how many
more there are.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

SEP = " · "
HEAD = "in force: "


def in_force_text(items: Sequence[str], width: int) -> Text:
    """``items`` (made inert already, newest first) in at most ``width`` cells: as many
    whole as fit beside the count of the rest; at least the first, cut if it must be."""
    line = Text(no_wrap=True, overflow="ellipsis")
    if not items:
        return line
    line.append(HEAD, style="bold")
    shown = len(items)
    while shown > 1:
        more = len(items) - shown
        tail = f"{SEP}+{more} more" if more else ""
        if len(HEAD) + len(SEP.join(items[:shown])) + len(tail) <= width:
            break
        shown -= 1
    for i, item in enumerate(items[:shown]):
        if i:
            line.append(SEP, style="dim")
        line.append(item)
    if shown < len(items):
        line.append(f"{SEP}+{len(items) - shown} more", style="dim")
    return line


class InForceLine(Static):
    DEFAULT_CSS = """
    InForceLine { height: 1; padding: 0 1; }
    InForceLine.-none { display: none; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="-none")
        self.items: tuple[str, ...] = ()
        self._text: Text | None = None

    def on_resize(self) -> None:
        self._lay_out()

    def show(self, items: Sequence[str]) -> None:
        """What is in force now, each ``fallback on since 14:05Z``; none hides the line."""
        items = tuple(items)
        if items == self.items:
            return
        self.items = items
        self.set_class(not items, "-none")
        self._lay_out()

    def _lay_out(self) -> None:
        # Before the first layout the line has no width: lay it all out, a resize fits it.
        width = self.content_region.width or 1000
        line = in_force_text(self.items, width)
        if line != self._text:
            self._text = line
            self.update(line)
