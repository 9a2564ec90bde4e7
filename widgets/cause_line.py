"""The line under the health table: what the GPU evidence says is behind the incident.

It names the likely cause beside the model whose 5xx rose ("5xx likely downstream of
GPU OOM on gpu-node-006 GPU 6, 7"), so the link from a gateway 5xx to the GPUs behind it
is on screen at 80 columns too, where the table has no room for a cause column.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.widgets import Static

from tui.domain.assessed import Assessed
from tui.domain.cause import SuspectedCause
from tui.domain.format import model_label, printable


class CauseLine(Static):
    DEFAULT_CSS = """
    CauseLine { height: 1; padding: 0 1; }
    CauseLine.-none { display: none; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text: Text | None = None
        self._last: tuple[str, Assessed | None, str | None] | None = None

    def on_resize(self) -> None:
        if self._last is not None:
            self.show(*self._last)

    def show(self, selected: str, assessed: Assessed | None, note: str | None = None) -> None:
        """The selected model's cause, else the incident's: the sickest model's (the
        refresh's causes, `Assessed.causes`, come sickest first; None before any data).
        The line is about the incident, not the selection: moving to a healthy model keeps
        it, and with it the height of every pane below. ``note`` says why evidence is
        partial."""
        self._last = (selected, assessed, note)
        causes: Mapping[str, SuspectedCause] = assessed.causes if assessed is not None else {}
        cause = causes.get(selected)
        if cause is None and causes:
            cause = next(iter(causes.values()))
        line = Text(no_wrap=True, overflow="ellipsis")
        if cause is not None:
            line.append("◆ ", style="bold red")
            line.append(model_label(cause.model), style="bold")
            # The longest wording that fits: the tally is the first thing to go.
            room = self.size.width - 2 - len(line) - 2
            for words in (cause.summary, cause.headline, f"5xx ← {cause.short}"):
                if len(words) <= room:
                    break
            line.append(f": {printable(words)}")  # node and pod names inside
        elif note:
            line.append(f"⚠ {printable(note)}", style="dim")
        self.set_class(not line.plain, "-none")
        if line != self._text:
            self._text = line
            self.update(line)
