"""The health table's name filter (`/`, as in k9s): which models a typed text keeps.

Pure: the app narrows each snapshot here before the table is given it, so the table
renders what it is handed and never learns there is a filter. The whole API's row is
no model and always stays: the split is read beside it.
"""

from __future__ import annotations

from dataclasses import replace

from tui.domain.format import printable
from tui.domain.model import Snapshot


def _needle(text: str) -> str:
    return text.strip().casefold()


def matches(name: str, text: str) -> bool:
    """``name`` contains ``text``, whatever the case; an empty text keeps every name."""
    return _needle(text) in name.casefold()


def narrowed(snapshot: Snapshot, text: str) -> Snapshot:
    """``snapshot`` with only the models whose name contains ``text`` (the same rows,
    not copies); ``snapshot`` itself when the text keeps everything."""
    needle = _needle(text)
    if not needle:
        return snapshot
    return replace(
        snapshot, models=tuple(m for m in snapshot.models if needle in m.model.casefold())
    )


def summary(text: str, shown: int, total: int) -> str:
    """What the filter bar says: ``filter: xyz (3 of 200)``, the typed text made inert."""
    return f"filter: {printable(text.strip())} ({shown} of {total})"
