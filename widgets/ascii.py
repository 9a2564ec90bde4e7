"""ASCII-only output, for terminals that cannot draw UTF-8.

A serial console, an old jump-host terminal or a session whose locale is not UTF-8
shows box drawing, braille plots and status marks as garbage, or tmux replaces each
with ``_``. Rather than every widget carrying two sets of glyphs, one line filter
rewrites what is about to be written: Textual passes every rendered line of every
widget (borders, scrollbars, toasts and the footer included) through the app's
filters, so nothing can slip past it.

Each character keeps its width in cells: a line's layout was computed for the
original, and a replacement of another width would shift or cut what follows.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

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
    "→": ">",
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
    """``text`` in ASCII, each character replaced in place, widths kept."""
    if text.isascii():
        return text
    return "".join(ascii_char(c) for c in text)


class AsciiOnly(LineFilter):
    """Rewrites every line the app is about to write into ASCII."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [
            segment if segment.text.isascii() else Segment(to_ascii(segment.text), *segment[1:])
            for segment in segments
        ]
