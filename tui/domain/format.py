"""How numbers read on screen: short, fixed-width-friendly, and "–" for no data."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable

from rich.cells import cell_len

from tui.domain.model import AGGREGATE

NO_DATA = "–"
AGGREGATE_LABEL = "Σ all models"
"""How the whole API's row and plots are named on screen."""


INERT_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
"""Control (C0, C1, DEL), format (bidi overrides, zero-width), surrogate, private-use,
line and paragraph separators: none of them may reach a terminal or a file as itself."""

_WIDTH_DISPUTED = (
    (0xFE00, 0xFE0F),  # variation selectors: VS16 widens the emoji before it, in some terminals
    (0xE0100, 0xE01EF),  # the supplementary variation selectors
    (0x1F1E6, 0x1F1FF),  # regional indicators: a pair is one flag of 2 cells, or 2 of 2, or 4
    (0x1F3FB, 0x1F3FF),  # skin-tone modifiers: joined to the emoji before, or drawn apart
)
"""Characters whose width terminals disagree on. Textual lays a row out by its own width
table (rich's); a terminal that counts one of these differently (tmux with glibc counts
``❤️`` as 1 cell, rich as 2) draws the rest of the row a cell off, under the wrong
column. Written as escapes, they take the same cells everywhere."""


@functools.cache
def _drawn_as_itself(ch: str) -> bool:
    """Whether ``ch`` may reach the screen as itself: not a control, format or separator
    character, and as wide in Textual's table as Unicode's East Asian Width says, which
    is what terminals go by. Spacing and enclosing combining marks (Mc, Me), Hangul
    fillers that Textual counts as 0 cells and the symbols Unicode widened after the
    tables terminals ship (☰, 𝌀) are written as escapes."""
    category = unicodedata.category(ch)
    if category in INERT_CATEGORIES or category in ("Mc", "Me"):
        return False
    code = ord(ch)
    if any(low <= code <= high for low, high in _WIDTH_DISPUTED):
        return False
    if category == "Mn":
        return cell_len(ch) == 0  # accents and other marks drawn over the character before
    return cell_len(ch) == (2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1)


@functools.lru_cache(maxsize=8192)
def printable(text: str) -> str:
    """Outside ``text`` (a label value, a log line, a server's message) made inert: every
    control, format, surrogate, private-use and line/paragraph separator character is
    written as a ``\\x``/``\\u`` escape, so it cannot drive a terminal (an OSC title or
    clipboard write, a screen clear), hide in a zero-width or bidi trick, or split a
    line, and still tells what was there. So is each character whose width terminals
    disagree on (`_drawn_as_itself`), so a row never shifts under its columns. Cached:
    the same names come every refresh."""
    if text.isascii() and text.isprintable():
        return text
    out: list[str] = []
    for ch in text:
        if _drawn_as_itself(ch):
            out.append(ch)
            continue
        code = ord(ch)
        if code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out)


def model_label(model: str) -> str:
    """A model's name as the screen shows it (made inert, `printable`); the aggregate
    gets its Σ label."""
    return AGGREGATE_LABEL if model == AGGREGATE else printable(model)


def fmt_latency(seconds: float | None) -> str:
    if seconds is None:
        return NO_DATA
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    # Never more than five characters, so a figure and its symbol fit a six-cell column.
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 100:
        return f"{seconds:.1f}s"
    return f"{seconds:.0f}s"


NO_SOURCE = "n/s"
"""A figure no stack in use exports: not zero, not missing data, never read at all."""


def fmt_beyond(seconds: float) -> str:
    """A quantile past a histogram's top finite bucket: ``>1s``, ``>500ms``. Bucket
    bounds are round numbers, so ``:g`` keeps them short."""
    if seconds < 1:
        return f">{seconds * 1000:.0f}ms"
    return f">{seconds:g}s"


def figure_text(
    health: object, field: str, fmt: Callable[[float | None], str],
    unsourced: frozenset[str] = frozenset(),
) -> str:  # fmt: skip
    """How a model's figure reads: its value, ``>bound`` for a quantile known only as a
    lower bound, or `NO_SOURCE` for a figure no stack exports."""
    if field in unsourced:
        return NO_SOURCE
    value = getattr(health, field)
    if value is not None and field in getattr(health, "beyond", ()):
        return fmt_beyond(value)
    return fmt(value)


def fmt_ratio(ratio: float | None) -> str:
    if ratio is None:
        return NO_DATA
    pct = ratio * 100
    if pct == 0:
        return "0%"
    if pct >= 99.95:
        return "100%"  # every request: no decimals to read, and the cell stays 5 wide
    if pct < 10:
        return f"{pct:.2f}%"
    return f"{pct:.1f}%"


def fmt_rps(rps: float | None) -> str:
    if rps is None:
        return NO_DATA
    if rps >= 10_000:
        return f"{rps / 1000:.0f}k"
    if rps >= 1000:
        return f"{rps / 1000:.1f}k"
    if rps >= 10:
        return f"{rps:.0f}"
    return f"{rps:.1f}"


def fmt_percent(ratio: float | None) -> str:
    """A usage ratio in whole percent (``93%``): KV-cache usage needs no decimals."""
    if ratio is None:
        return NO_DATA
    return f"{ratio * 100:.0f}%"


def fmt_queue(depth: float | None) -> str:
    if depth is None:
        return NO_DATA
    return f"{depth:.0f}"
