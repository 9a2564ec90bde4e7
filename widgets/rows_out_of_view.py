"""The line under the health table that counts the rows scrolled out of view.

At 80x24 the table shows seven of thirteen rows, and a scrollbar a few cells long is
all that says more exist: this line says how many ("6 more ↓"). The app counts them from
the table's scroll position and hands the numbers here.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class RowsOutOfView(Static):
    DEFAULT_CSS = """
    RowsOutOfView {
        height: 1;
        width: 100%;
        padding: 0 1;
        text-align: right;
        color: $text-muted;
        display: none;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.counts: tuple[int, int] | None = None
        """(rows above, rows below) the table's view; None while every row shows."""

    def show(self, above: int, below: int, *, overflows: bool) -> None:
        """``overflows``: the table has more rows than it shows. The line stays while it
        does, at the top and the bottom alike, so the panes below never jump a row as
        the selection moves."""
        counts = (above, below) if overflows else None
        if counts == self.counts:
            return
        self.counts = counts
        self.display = overflows
        parts = []
        if above:
            parts.append(f"{above} above ↑")
        if below:
            parts.append(f"{below} more ↓")
        self.update(Text(" · ".join(parts)))
