"""Where the 429s come from: one noisy API key, or spread across tenants.

A 429 surge concentrated on one key is a customer hammering their quota, not a
rate-limiter problem; the line says which at a glance.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tui.format import fmt_rps, printable
from tui.model import KeyRejections

CONCENTRATED = 0.5
"""A key taking at least this share of all 429s is called out as the source."""


class KeyRejectionsLine(Static):
    DEFAULT_CSS = """
    KeyRejectionsLine { height: 1; padding: 0 1; }
    """

    _line: Text | None = None

    def show(self, keys: tuple[KeyRejections, ...]) -> None:
        if not keys or sum(k.rate for k in keys) == 0:
            self._say(Text("429s by API key: none", style="dim"))
            return
        top = keys[0]
        line = Text("429s by API key: ")
        if top.share >= CONCENTRATED:
            line.append(f"{top.share:.0%} from {printable(top.api_key)}", style="bold")
            line.append(" — one noisy tenant  ")
        else:
            line.append("spread across keys  ", style="bold")
        line.append(
            "  ".join(f"{printable(k.api_key)} {fmt_rps(k.rate)}/s {k.share:.0%}" for k in keys[:4])
        )
        self._say(line)

    def _say(self, line: Text) -> None:
        # One line high whatever it says: a new line is a repaint, never a new layout.
        if line != self._line:
            self._line = line
            self.update(line, layout=False)
