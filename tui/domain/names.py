"""Model names cut to a column's width: pure, no Textual.

Fine-tuned variants share their base model's name and differ at the end
(``bge-reranker-v2-m3-ft-acme-legal``, ``…-ft-cyberdyne-1``): a name cut at its end
loses exactly what tells them apart. A name is cut in the middle, the tail kept, and
where two cuts still read the same, more of the tail is kept until they do not.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from rich.cells import cell_len

ELLIPSIS = "…"


def cut_middle(text: str, width: int, head: int | None = None) -> str:
    """``text`` in at most ``width`` cells: whole when it fits, else its first ``head``
    cells and its last ones around an ellipsis (``head`` defaults to a little under half,
    the tail being the part that tells variants apart)."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    room = width - 1
    if head is None:
        head = room // 2
    head = max(0, min(head, room))
    return _head(text, head) + ELLIPSIS + _tail(text, room - head)


def fit_names(names: Iterable[str], width: int) -> dict[str, str]:
    """Each name as it fits ``width`` cells (`cut_middle`), no two distinct names cut
    alike where some split of the width tells them apart: names whose cuts clash keep
    more of their tail first (then more of their head), group by group, until none
    clash or no split separates the rest."""
    cuts = {name: cut_middle(name, width) for name in sorted(set(names))}
    room = width - 1
    default = room // 2
    splits = [*range(default - 1, -1, -1), *range(default + 1, room + 1)]
    for _ in range(len(cuts)):
        clashes: dict[str, list[str]] = defaultdict(list)
        for name, cut in cuts.items():
            clashes[cut].append(name)
        groups = [group for group in clashes.values() if len(group) > 1]
        if not groups or room < 1:
            break
        settled = False
        for group in groups:
            taken = set(cuts.values()) - {cuts[group[0]]}
            apart = _apart(group, width, splits, taken)
            cuts.update(apart)
            settled = settled or bool(apart)
        if not settled:
            break
    return cuts


def _apart(group: list[str], width: int, splits: list[int], taken: set[str]) -> dict[str, str]:
    """The cuts of the first split that tells every name of ``group`` apart (from each
    other and from every cut in ``taken``), else those it can of the split that tells
    most apart."""
    best: dict[str, str] = {}
    for head in splits:
        trial = {name: cut_middle(name, width, head) for name in group}
        shown = list(trial.values())
        apart = {
            name: cut for name, cut in trial.items() if shown.count(cut) == 1 and cut not in taken
        }
        if len(apart) == len(group):
            return apart
        if len(apart) > len(best):
            best = apart
    return best


def _head(text: str, cells: int) -> str:
    used = 0
    for i, ch in enumerate(text):
        used += cell_len(ch)
        if used > cells:
            return text[:i]
    return text


def _tail(text: str, cells: int) -> str:
    used = 0
    start = len(text)
    for i in range(len(text) - 1, -1, -1):
        used += cell_len(text[i])
        if used > cells:
            break
        start = i
    # A mark drawn over the character before it has nothing to sit on once that is cut.
    while start < len(text) and cell_len(text[start]) == 0:
        start += 1
    return text[start:]
