"""Where the 429s come from: one noisy API key, or spread across tenants.

A 429 surge concentrated on one key is a customer hammering their quota, not a
rate-limiter problem; the line says which at a glance, and whose key it is (the
counter's tenant label beside the key id).

One line, laid out for the width it has: whole entries only (a key without its share
says nothing), then how many more keys there are. Small rates keep two significant
digits: 0.043/s is not 0.0/s.
"""

from __future__ import annotations

from rich.text import Text
from textual.events import Resize
from textual.widgets import Static

from tui.domain.format import printable
from tui.domain.model import KeyRejections

CONCENTRATED = 0.5
"""A key taking at least this share of all 429s is called out as the source."""
UNKNOWN_WIDTH = 1000
"""Before the line has a size: lay it all out, the first resize fits it."""
SEP = " · "


def fmt_key_rate(rps: float) -> str:
    """429s per second, never rounded to nothing: ``31``, ``2.5``, ``0.043``, ``<0.001``."""
    if rps >= 10:
        return f"{rps:.0f}"
    if rps >= 1:
        return f"{rps:.1f}"
    if rps >= 0.001:
        return f"{rps:.2g}"
    return "<0.001" if rps > 0 else "0"


def fmt_share(share: float) -> str:
    """A share of the 429s: ``99%``, ``1.4%``, ``0.3%``, ``<0.1%``."""
    pct = share * 100
    if pct >= 10 or pct == 0:
        return f"{pct:.0f}%"
    if pct >= 0.1:
        return f"{pct:.1f}%"
    return "<0.1%"


def who(key: KeyRejections) -> str:
    """``key_1a34ac (initech)``: the key, and its tenant where the series name one."""
    name = printable(key.api_key)
    return f"{name} ({printable(key.tenant)})" if key.tenant else name


def key_line(keys: tuple[KeyRejections, ...], width: int) -> Text:
    """The 429 line for ``keys`` (busiest first) in at most ``width`` cells: the words
    that show the most keys whole, the fullest of those, and how many more there are."""
    if not keys or sum(k.rate for k in keys) == 0:
        return Text("429s by API key: none", style="dim")
    top = keys[0]
    concentrated = top.share >= CONCENTRATED
    rest = keys[1:] if concentrated else keys
    entries = [f"{who(k)} {fmt_key_rate(k.rate)}/s {fmt_share(k.share)}" for k in rest]
    heads = _heads(top, concentrated)
    # A start that leaves room to say how many keys are not shown; the shortest if none.
    fitting = [h for h in heads if h.cell_len + _more_len(len(entries)) <= width] or heads[-1:]
    best, best_shown = _fill(fitting[0], entries, width)
    for head in fitting[1:]:
        line, shown = _fill(head, entries, width)
        if shown > best_shown:
            best, best_shown = line, shown
    return best


def _heads(top: KeyRejections, concentrated: bool) -> list[Text]:
    """The line's start, most words first; each next one leaves out what says least."""
    if not concentrated:
        return [_head("429s by API key: ", "spread across keys"), _head("429s by key: ", "spread")]
    said = f"{fmt_share(top.share)} from {who(top)}"
    rate = f" at {fmt_key_rate(top.rate)}/s"
    return [
        _head("429s by API key: ", said, rate + " — one noisy tenant"),
        _head("429s by API key: ", said, rate),
        _head("429s by key: ", said, rate),
        _head("429s by key: ", said),
    ]


def _head(label: str, bold: str, plain: str = "") -> Text:
    head = Text(label, no_wrap=True, overflow="crop", end="")
    head.append(bold, style="bold")
    head.append(plain)
    return head


def _fill(head: Text, entries: list[str], width: int) -> tuple[Text, int]:
    """``head`` and as many whole entries as fit, then ``+N more`` where room is left."""
    line = head.copy()
    shown = 0
    for entry in entries:
        left = len(entries) - shown - 1
        if line.cell_len + len(SEP) + len(entry) + _more_len(left) > width:
            break
        line.append(SEP)
        line.append(entry)
        shown += 1
    more = _more_len(len(entries) - shown)
    if more and line.cell_len + more <= width:
        line.append(f"{SEP}+{len(entries) - shown} more", style="dim")
    return line, shown


def _more_len(left: int) -> int:
    return len(f"{SEP}+{left} more") if left else 0


class KeyRejectionsLine(Static):
    DEFAULT_CSS = """
    KeyRejectionsLine { height: 1; padding: 0 1; }
    """

    _line: Text | None = None
    _keys: tuple[KeyRejections, ...] | None = None

    def show(self, keys: tuple[KeyRejections, ...]) -> None:
        self._keys = keys
        self._lay_out()

    def on_resize(self, event: Resize) -> None:
        if self._keys is not None:
            self._lay_out()

    def _lay_out(self) -> None:
        assert self._keys is not None
        width = self.size.width or UNKNOWN_WIDTH
        self._say(key_line(self._keys, width))

    def _say(self, line: Text) -> None:
        # One line high whatever it says: a new line is a repaint, never a new layout.
        if line != self._line:
            self._line = line
            self.update(line, layout=False)
