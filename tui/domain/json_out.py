"""JSON written where a person may `cat` it: a report file, the timeline, a command's
stdout. Letters of every script stay as they are (a model named in CJK reads as itself),
but no character of the outside text it holds can drive a terminal or hide in one.

JSON escapes C0 controls itself; with ``ensure_ascii=False`` it writes the rest raw:
C1 controls (U+009B is CSI to some terminals), DEL, line and paragraph separators
(U+2028/2029), bidi overrides and other format characters, surrogates (which UTF-8
cannot even encode) and private-use characters. `inert` writes each of those as a
``\\uXXXX`` escape, which JSON reads back as the same character.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import IO, Any

from tui.domain.format import INERT_CATEGORIES

_CANDIDATE = re.compile(r"[^\x00-\x7e]")
"""DEL and every non-ASCII character: each is looked up, most are kept."""


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    # As `tui.domain.format.printable` escapes on screen: controls (DEL, C1), format (bidi,
    # zero-width), surrogate, private-use, line and paragraph separator characters.
    if unicodedata.category(ch) not in INERT_CATEGORIES:
        return ch
    code = ord(ch)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # beyond the BMP: JSON writes a UTF-16 surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def inert(dumped: str) -> str:
    """``dumped`` (the output of ``json.dumps``) with every character that could act on a
    terminal written as an escape. Outside a string JSON text is ASCII, and each escape
    it already holds is whole, so the result is the same JSON value."""
    if dumped.isascii() and "\x7f" not in dumped:
        return dumped
    return _CANDIDATE.sub(_escape, dumped)


def dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, **kwargs)``, made `inert`."""
    return inert(json.dumps(value, ensure_ascii=False, **kwargs))


def dump(value: Any, out: IO[str], **kwargs: Any) -> None:
    """`dumps` written to ``out`` (``sys.stdout`` for a ``--json`` command); all in ASCII
    escapes where ``out``'s encoding cannot hold a letter (a Latin-1 terminal)."""
    text = dumps(value, **kwargs)
    encoding = getattr(out, "encoding", None)
    if encoding and not text.isascii():
        try:
            text.encode(encoding)
        except (UnicodeEncodeError, LookupError):
            text = json.dumps(value, ensure_ascii=True, **kwargs)
    out.write(text)
