"""`/`: the line where the engineer types part of a model name (k9s's filter).

The bar only edits and shows the text; the app narrows the snapshots it hands the
health table (`tui.domain.name_filter`) and says how many models the text keeps
(`show_count`). While typing, the table narrows with each key; enter keeps the filter
and gives the keys back to the table, escape clears it. A kept filter stays on this
line ("filter: acme (16 of 200)") until escape on the panes clears it.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Static

from tui.domain.format import printable
from tui.domain.name_filter import summary
from widgets.keymap import bindings


class FilterBar(Horizontal):
    BINDINGS: ClassVar[list[BindingType]] = bindings("filter")

    DEFAULT_CSS = """
    FilterBar {
        height: 1;
        display: none;
        background: $panel;
        padding: 0 1;
    }
    FilterBar > Static { width: auto; height: 1; }
    FilterBar > Input {
        width: 1fr;
        height: 1;
        border: none;
        padding: 0;
        background: $panel;
    }
    FilterBar > Input:focus { border: none; background-tint: $foreground 5%; }
    FilterBar.-kept > Input, FilterBar.-kept > #filter-prompt, FilterBar.-kept > #filter-count {
        display: none;
    }
    FilterBar.-editing > #filter-summary { display: none; }
    """

    class Changed(Message):
        """The text now filtering the table (empty: no filter)."""

        def __init__(self, value: str) -> None:
            super().__init__()
            self.value = value

    class Closed(Message):
        """The field gave up the keys (enter kept the filter, escape cleared it)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._count: tuple[int, int] = (0, 0)

    def compose(self) -> ComposeResult:
        yield Static("filter: ", id="filter-prompt")
        yield Input(placeholder="part of a model name", id="filter-input")
        yield Static(id="filter-count")
        yield Static(id="filter-summary")

    @property
    def value(self) -> str:
        return self.query_one(Input).value.strip()

    @property
    def editing(self) -> bool:
        return self.has_class("-editing")

    @property
    def text(self) -> str:
        """What the bar says: ``filter: xyz (3 of 200)`` and the keys that act on it."""
        shown, total = self._count
        keys = "enter keeps · esc clears" if self.editing else "/ edits · esc clears"
        return f"{summary(self.value, shown, total)} · {keys}"

    def open(self) -> None:
        """Into the field, the filter's text kept for editing."""
        self.set_classes("-editing")
        self.display = True
        self._paint()
        self.query_one(Input).focus()

    def keep(self) -> None:
        """Out of the field; the filter stays (the bar goes when it filters nothing)."""
        self.set_classes("-kept" if self.value else "")
        self.display = bool(self.value)
        self._paint()
        self.post_message(self.Closed())

    def action_clear(self) -> None:
        field = self.query_one(Input)
        if field.value:
            field.value = ""  # its Changed says so to the app
        self.set_classes("")
        self.display = False
        self.post_message(self.Closed())

    def show_count(self, shown: int, total: int) -> None:
        """How many models the text keeps, of how many."""
        if (shown, total) != self._count:
            self._count = (shown, total)
            self._paint()

    def _paint(self) -> None:
        shown, total = self._count
        self.query_one("#filter-count", Static).update(
            Text(f" ({shown} of {total}) · enter keeps · esc clears", style="dim")
        )
        self.query_one("#filter-summary", Static).update(Text(self.text))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        field = event.input
        # Typed or pasted: a control or bidi character has no place in a name's part.
        clean = "".join(ch for ch in field.value if printable(ch) == ch)
        if clean != field.value:
            field.value = clean
            return
        self._paint()
        self.post_message(self.Changed(clean.strip()))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.keep()
