"""ASCII-only output, for terminals that cannot draw UTF-8.

A serial console, an old jump-host terminal or a session whose locale is not UTF-8
shows box drawing, braille plots and status marks as garbage, or tmux replaces each
with ``_``. Rather than every widget carrying two sets of glyphs, one line filter
rewrites what is about to be written: Textual passes every rendered line of every
widget (borders, scrollbars, toasts and the footer included) through the app's
filters, so nothing can slip past it.

Each line keeps its width in cells: its layout was computed for the original, and a
line of another width would shift or cut what follows. Most characters have a stand-in
as wide as they are. A few would mislead at that width: ``5xx ← model`` read as
``5xx < model`` is a comparison, ``⏎ Accept`` read as ``? Accept`` names no key. Those
are written in their readable form (``<-``, ``enter``) where the line has blank cells
to spare after them: the cells come out of the first long enough run of spaces that
follows, short of any border or rule, so text moves right only up to that run.
Where no run has room, the one-cell stand-in is written.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import pairwise

from rich.cells import cell_len
from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

MARKS: dict[str, str] = {
    # The cockpit's own marks first: what each means must survive the translation.
    "✖": "X",  # breach
    "✗": "x",  # failed gate, rolled back
    "✘": "x",
    "▲": "^",  # warning
    "✓": "v",  # within the SLO, gate passed
    "✔": "v",
    "⚠": "!",  # stale, a note to read
    "▶": ">",  # current stage, playing
    "▸": ">",
    "»": ">",  # stage skipped by a promotion
    "◆": "*",  # a GPU event on the grid
    "•": "*",
    "·": ".",
    "▼": "v",  # an open branch of a tree
    "⏸": "=",  # replay paused
    "⚙": "*",
    "Σ": "S",
    # Punctuation and arithmetic from the figures and sentences.
    "—": "-",
    "–": "-",
    "−": "-",
    "…": "~",
    "×": "x",
    "÷": "/",
    "±": "+",
    "≥": ">",
    "≤": "<",
    "≈": "~",
    "→": ">",  # the one-cell stand-ins, where `WIDE` finds no room
    "←": "<",
    "↑": "^",
    "↓": "v",
    "°": "o",
    "“": '"',
    "”": '"',
    "‘": "'",
    "’": "'",
    "\u00a0": " ",
    # Block elements: bars, sparklines, Textual's tall and wide borders.
    "█": "#",
    "▉": "#",
    "▊": "|",
    "▋": "|",
    "▌": "|",
    "▍": "|",
    "▎": "|",
    "▏": "|",
    "▐": "|",
    "▕": "|",
    "▇": "#",
    "▆": "=",
    "▅": "=",
    "▄": "-",
    "▃": "-",
    "▂": "_",
    "▁": "_",
    "▀": "-",
    "▔": "-",
    "░": ".",
    "▒": ":",
    "▓": "#",
}

WIDE: dict[str, str] = {
    "←": "<-",
    "→": "->",
    "⏎": "enter",
    "⌫": "bksp",
    "≥": ">=",
    "≤": "<=",
}
"""Readable forms wider than their character, written where the line has room for them."""

KEY_NAMES: dict[str, str] = {
    "⏎": "enter",
    "⌫": "bksp",
    "←": "left",
    "→": "right",
    "↑": "up",
    "↓": "down",
}
"""Textual's key glyphs by name: a widget laying out keys in ASCII mode asks `ascii_key`
first, so a narrow line drops a whole key rather than showing ``? Accept``."""


def ascii_key(display: str) -> str:
    """A key as Textual displays it (``⏎``, ``^p``), in ASCII at its readable width."""
    return KEY_NAMES.get(display) or to_ascii(display)


def readable(text: str) -> str:
    """``text`` in ASCII with each character at its readable form (`WIDE`), for a place
    that lays out its own width (the help's key table), not the screen's filter."""
    return "".join(WIDE.get(char) or ascii_char(char) for char in text)


@lru_cache(maxsize=4096)
def ascii_char(char: str) -> str:
    """The ASCII stand-in for one character, as many cells wide as the original."""
    if char.isascii():
        return char
    if char in MARKS:
        return MARKS[char]
    code = ord(char)
    if 0x2800 <= code <= 0x28FF:  # braille: plotext's dots
        return " " if code == 0x2800 else "."
    width = cell_len(char)
    if width == 0:
        return ""  # combining marks, zero-width joiners
    name = unicodedata.name(char, "")
    if 0x2500 <= code <= 0x257F:  # box drawing
        if "DIAGONAL" in name:
            return "/" if "UPPER RIGHT TO LOWER LEFT" in name else "\\"
        if "ARC" in name:
            return "+"
        words = set(name.split())
        arms = {arm for arm in ("UP", "DOWN", "LEFT", "RIGHT") if arm in words}
        arms |= {"LEFT", "RIGHT"} if "HORIZONTAL" in words else set()
        arms |= {"UP", "DOWN"} if "VERTICAL" in words else set()
        if arms <= {"LEFT", "RIGHT"}:
            return "-"
        if arms <= {"UP", "DOWN"}:
            return "|"
        return "+"
    if 0x2580 <= code <= 0x259F:  # the other block elements
        return "#"
    decomposed = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
    if len(decomposed) == width:  # é -> e, ﬁ -> fi
        return decomposed
    return "?" * width


def to_ascii(text: str) -> str:
    """``text`` as one line in ASCII, as many cells wide as it was."""
    if text.isascii():
        return text
    return "".join(_ascii_line((text,)))


def _is_rule(char: str) -> bool:
    """A border, a table's column rule or the key line's thin rule: blank cells past one
    belong to another column, so a wide form never takes them."""
    return 0x2500 <= ord(char) <= 0x259F or char == "|"


@lru_cache(maxsize=4096)
def _ascii_line(texts: tuple[str, ...]) -> tuple[str, ...]:
    """Each of a line's segment texts in ASCII; the line keeps its width in cells, not
    each segment (a segment may lose the spaces a wide form took, even all of them)."""
    line = "".join(texts)
    out = [ascii_char(c) for c in line]
    runs = [[m.start(), m.end()] for m in re.finditer(" {2,}", line)]
    """Runs of two spaces or more as [start, end]; a wide form moves the end left."""
    for i, char in enumerate(line):
        wide = WIDE.get(char)
        if wide is None:
            continue
        need = cell_len(wide) - cell_len(char)
        ahead = []
        for run in runs:
            if run[0] <= i:
                continue
            if any(_is_rule(c) for c in line[i + 1 : run[0]]):
                break
            ahead.append(run)
        # A run keeps two spaces where it can (a gap between two key hints), at least one.
        run = next((r for r in ahead if r[1] - r[0] >= need + 2), None) or next(
            (r for r in ahead if r[1] - r[0] >= need + 1), None
        )
        if run is None:
            continue
        out[i] = wide
        for j in range(run[1] - need, run[1]):
            out[j] = ""
        run[1] -= need
    ends = [0]
    for text in texts:
        ends.append(ends[-1] + len(text))
    return tuple("".join(out[a:b]) for a, b in pairwise(ends))


class AsciiOnly(LineFilter):
    """Rewrites every line the app is about to write into ASCII."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        if all(segment.text.isascii() for segment in segments):
            return segments
        texts = _ascii_line(tuple(segment.text for segment in segments))
        return [
            segment if text == segment.text else Segment(text, *segment[1:])
            for segment, text in zip(segments, texts, strict=True)
            # A segment whose spaces all went to a wide form is left out: Textual warns
            # of empty segments. Controls have no text to lose.
            if text or segment.control
        ]
