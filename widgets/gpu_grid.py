"""The GPU grid: every GPU of the fleet as one character cell, grouped by node.

At 1024 GPUs there is no room for numbers, so each cell says three things at once,
each readable without colour: the glyph's height is the memory used (▁ to ▇, and a bold
█ at 95 % or more, where allocations start to fail), its colour the utilization,
and an ``!`` (CUDA OOM or OOMKilled) or ``X`` (XID) on red replaces the glyph where
something went wrong; a GPU with both shows ``!``. Nodes flow left to right as blocks
of cells behind a short label: the part of the node name every node shares is written
once, in the summary.

A Line API widget: the grid keeps what each line shows and, on every `show`, repaints
only the lines whose cells changed, so a quiet fleet costs a few cells over SSH, not
the whole screen.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar, NamedTuple

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import BindingType
from textual.geometry import Region, Size, Spacing
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.domain.format import printable
from tui.domain.model import GpuEvent, GpuState
from widgets.keymap import bindings

GpuKey = tuple[str, int]
"""(node, GPU index): how a GPU is known from one refresh to the next."""

LEVELS = "▁▂▃▄▅▆▇"
"""Memory used below `FULL_AT`, in equal steps."""
FULL_GLYPH = "█"
FULL_AT = 0.95
NO_DATA_GLYPH = "·"
CURSOR_GLYPH = "◆"
"""Drawn in reverse where the cursor is: a reversed ▇ would be a near-empty cell, easy to
read as an idle GPU. The detail pane spells out the figures the glyph hides."""
XID_MARK = "X"
OOM_MARK = "!"
OOM_KINDS = frozenset({"oom"})
"""What ``!`` marks: a CUDA out-of-memory error, the GPU's memory. A container OOMKilled
(exit 137) ran out of host memory, its own cause (`tui.domain.cause`): the grid, which is about
GPUs, does not mark it."""

UTIL_RAMP: tuple[tuple[float, str], ...] = (
    (0.10, "grey50"),
    (0.50, "green3"),
    (0.80, "gold3"),
    (math.inf, "dark_orange"),
)
"""(utilization below, colour). Mid-tone named colours: each reads on a light and on a
dark background, where bright yellow or dark green would vanish on one of them."""
_UTIL_BOUNDS = tuple(below for below, _ in UTIL_RAMP)

HEADER = 2
"""Lines fixed above the grid: the summary and the legend."""
GAP = 1
"""Blank cells between two node blocks on a line."""
LABEL_MAX = 12
SEPARATORS = "-_.:/"

ALERT_STYLE = Style(color="white", bgcolor="red", bold=True)
FULL_STYLE = Style(color="red", bold=True)


class Look(NamedTuple):
    """Everything that decides how one cell is drawn: equal looks draw the same."""

    glyph: str
    colour: str | None
    alert: bool
    """An event mark or full memory: drawn in red whatever the highlight."""
    emphasis: int
    """1: the highlighted model's GPU; -1: another model's while one is highlighted."""
    cursor: bool
    stale: bool


@dataclass(frozen=True, slots=True)
class Block:
    """One node on the grid: its short label and its GPUs in index order."""

    node: str
    label: str
    keys: tuple[GpuKey, ...]


@dataclass(frozen=True, slots=True)
class Layout:
    width: int
    label_width: int
    slots: int
    """Cells per block: the most GPUs any shown node has, so blocks line up in columns."""
    lines: tuple[tuple[Block, ...], ...]

    @property
    def block_width(self) -> int:
        return self.label_width + (1 if self.label_width else 0) + self.slots

    def cell_x(self, block: int, slot: int) -> int:
        return block * (self.block_width + GAP) + self.block_width - self.slots + slot


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that puts ``node-9`` before ``node-10``."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", name) if p)


def _kind(ch: str) -> int:
    return 0 if ch.isdigit() else 1 if ch.isalpha() else 2


def _shared_prefix(names: Sequence[str]) -> str:
    """The longest start every name shares, cut back so that no label begins in the middle
    of a number or a word (``gpu-node-00`` + ``1`` would label node 1 as ``1``, not ``001``)
    and no label is empty."""
    shortest = min(len(n) for n in names)
    prefix = names[0][: shortest - 1]
    for name in names[1:]:
        while not name.startswith(prefix):
            prefix = prefix[:-1]
    while prefix and _kind(prefix[-1]) < 2:
        nexts = {_kind(n[len(prefix)]) for n in names}
        if _kind(prefix[-1]) not in nexts:
            break
        prefix = prefix[:-1]
    return prefix


def shared_affixes(names: Sequence[str]) -> tuple[str, str]:
    """What every node name starts and ends with, dropped from the labels. A lone node
    keeps its whole name as the prefix: the summary names it and its block needs no label."""
    if not names:
        return "", ""
    if len(names) == 1:
        return names[0], ""
    prefix = _shared_prefix(names)
    rest = [n[len(prefix) :][::-1] for n in names]
    suffix = _shared_prefix(rest)[::-1] if len(set(rest)) > 1 else ""
    # A suffix that is not a whole domain-like part (".compute.internal") is noise.
    if suffix and suffix[0] not in SEPARATORS:
        suffix = ""
    return prefix, suffix


def node_label(node: str, affixes: tuple[str, str]) -> str:
    """A node's short label on the grid, made inert: a node name is a label value."""
    return _node_label(printable(node), (printable(affixes[0]), printable(affixes[1])))


def _node_label(node: str, affixes: tuple[str, str]) -> str:
    prefix, suffix = affixes
    label = node[len(prefix) : len(node) - len(suffix)]
    return label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1] + "…"


def lay_out(blocks: Sequence[Block], width: int) -> Layout:
    """Blocks flow left to right and wrap to ``width``; at least one block per line."""
    label_width = max((len(b.label) for b in blocks), default=0)
    slots = max((len(b.keys) for b in blocks), default=0)
    probe = Layout(width, label_width, slots, ())
    per_line = max(1, (width + GAP) // (probe.block_width + GAP))
    lines = tuple(tuple(blocks[i : i + per_line]) for i in range(0, len(blocks), per_line))
    return Layout(width, label_width, slots, lines)


def mem_glyph(ratio: float | None) -> str:
    if ratio is None or not math.isfinite(ratio):
        return NO_DATA_GLYPH
    if ratio >= FULL_AT:
        return FULL_GLYPH
    step = int(max(0.0, ratio) / FULL_AT * len(LEVELS))
    return LEVELS[min(step, len(LEVELS) - 1)]


def util_colour(ratio: float | None) -> str | None:
    if ratio is None or not math.isfinite(ratio):
        return None
    return UTIL_RAMP[bisect_right(_UTIL_BOUNDS, ratio)][1]


def event_mark(events: Iterable[GpuEvent]) -> str | None:
    """``!`` beats ``X``: the OOM is what ties a GPU to its model's 5xx (the cause line
    names the OOMed GPUs, and the summary counts them), and the XIDs an OOMing process
    leaves behind (31 memory page fault, 43 stopped processing) would otherwise hide
    every OOM. The detail pane lists both, and the summary counts each kind."""
    kinds = {e.kind for e in events}
    if kinds & OOM_KINDS:
        return OOM_MARK
    if "xid" in kinds:
        return XID_MARK
    return None


@lru_cache(maxsize=512)
def cell_style(look: Look) -> Style:
    if look.glyph in (XID_MARK, OOM_MARK):
        style = ALERT_STYLE
    elif look.alert:
        style = FULL_STYLE
    elif look.glyph == NO_DATA_GLYPH:
        style = Style(dim=True)
    else:
        style = Style(color=look.colour)
    if look.emphasis > 0:
        style += Style(bold=True, underline=True)
    elif (look.emphasis < 0 or look.stale) and not (look.alert or look.cursor):
        style += Style(dim=True)
    if look.cursor:
        style += Style(bold=True, reverse=True)
    return style


def attach_events(
    events: Iterable[GpuEvent], gpus: Iterable[GpuState]
) -> dict[GpuKey, tuple[GpuEvent, ...]]:
    """Each GPU's events, newest first. An event that names its GPU goes to that GPU; one
    that names only a pod (an OOMKilled container) goes to every GPU the pod holds."""
    by_pod: dict[str, list[tuple[str | None, GpuKey]]] = {}
    for g in gpus:
        if g.pod:
            by_pod.setdefault(g.pod, []).append((g.namespace, (g.node, g.gpu)))
    found: dict[GpuKey, dict[tuple[object, ...], GpuEvent]] = {}
    for e in events:
        if e.node is not None and e.gpu is not None:
            keys = [(e.node, e.gpu)]
        elif e.pod is not None:
            keys = [
                k
                for ns, k in by_pod.get(e.pod, ())
                if e.namespace is None or ns is None or ns == e.namespace
            ]
        else:
            keys = []
        for k in keys:
            found.setdefault(k, {})[e.key] = e
    return {
        k: tuple(sorted(evs.values(), key=lambda e: e.at, reverse=True)) for k, evs in found.items()
    }


def legend() -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("mem ", style="dim")
    text.append(LEVELS)
    text.append(" ")
    text.append(FULL_GLYPH, style=FULL_STYLE)
    text.append("≥95%  util ", style="dim")
    lower = 0.0
    for below, colour in UTIL_RAMP:
        text.append("▆", style=colour)
        text.append(f"{lower * 100:.0f}+ " if math.isinf(below) else f"<{below * 100:.0f} ")
        lower = below
    text.append(" ")
    text.append(XID_MARK, style=ALERT_STYLE)
    text.append(" xid  ")
    text.append(OOM_MARK, style=ALERT_STYLE)
    text.append(" oom, or both  ")
    text.append(NO_DATA_GLYPH, style="dim")
    text.append(" no data", style="dim")
    return text


class GpuGrid(ScrollView, can_focus=True):
    """Renders the GPUs and events it is given; it never reads a source."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("grid")

    DEFAULT_CSS = """
    GpuGrid {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        /* The width never changes with the scrollbar, so neither does the layout. */
        scrollbar-gutter: stable;
        /* No focus tint: focus shows as the cursor, the node label and the key line,
           and moving it redraws one line instead of the whole grid. */
    }
    """

    class GpuSelected(Message):
        """The cursor moved to ``gpu``, or the GPU under it changed on a `show`; ``events``
        are its events, newest first."""

        def __init__(self, gpu: GpuState, events: tuple[GpuEvent, ...]) -> None:
            super().__init__()
            self.gpu = gpu
            self.events = events

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._gpus: dict[GpuKey, GpuState] = {}
        self._events: dict[GpuKey, tuple[GpuEvent, ...]] = {}
        self._marks: dict[GpuKey, str] = {}
        self._message = "No GPU data."
        self._highlight: str | None = None
        self._filter = False
        self._cursor: GpuKey | None = None
        self._affixes = ("", "")
        self._shape: object = None
        self._layout = Layout(0, 0, 0, ())
        self._order: list[GpuKey] = []
        self._where: dict[GpuKey, tuple[int, int, int]] = {}
        self._content: list[tuple[tuple[str, int, tuple[Look, ...]], ...]] = []
        self._strips: dict[int, Strip] = {}
        self._summary = Text()
        self._fixed: dict[int, Strip] = {}
        self._shown: tuple[tuple[GpuState, ...], tuple[GpuEvent, ...]] | None = None
        self._drawn_look: object = None

    # -- what the app calls ---------------------------------------------------------------

    def show(self, gpus: Sequence[GpuState], events: Sequence[GpuEvent]) -> None:
        """Replace the data; repaints only the lines that read differently."""
        shown = (tuple(gpus), tuple(events))
        if shown == self._shown:
            # The GPUs are read less often than the models (``gpu_refresh_s``): most
            # refreshes hand over the very same readings, compared here by identity.
            return
        self._shown = shown
        before = self.selected, self._events.get(self._cursor) if self._cursor else None
        self._gpus = {(g.node, g.gpu): g for g in gpus}
        self._events = attach_events(events, gpus)
        self._marks = {
            k: mark
            for k, evs in self._events.items()
            if k in self._gpus and (mark := event_mark(evs)) is not None
        }
        moved = self._sync()
        after = self.selected
        if after is not None and (moved or before != (after, self._events.get(self._cursor))):
            self._announce()

    def set_message(self, text: str) -> None:
        """What the grid says while it has no GPUs, e.g. why there is no GPU data."""
        self._message = text
        self._fixed.clear()
        if not self._gpus:
            self.refresh()

    def highlight(self, model: str | None) -> None:
        """Make ``model``'s GPUs stand out and dim the rest; ``None`` clears it."""
        if model != self._highlight:
            self._highlight = model
            # A filter with no model to filter by would hide nothing and say so forever.
            self._filter = self._filter and model is not None
            self._announce_if_moved(self._sync())

    @property
    def highlighted(self) -> str | None:
        return self._highlight

    @property
    def filtered(self) -> bool:
        """True while only nodes holding the highlighted model's GPUs are shown."""
        return self._filter

    @property
    def selected(self) -> GpuState | None:
        """The GPU under the cursor (kept while the grid is not focused)."""
        return self._gpus.get(self._cursor) if self._cursor else None

    def events_for(self, gpu: GpuState) -> tuple[GpuEvent, ...]:
        return self._events.get((gpu.node, gpu.gpu), ())

    @property
    def lines(self) -> int:
        """Grid lines (node rows) in the current layout, not counting the two fixed ones."""
        return len(self._layout.lines)

    def line_of(self, gpu: GpuState) -> int | None:
        """The grid line that holds ``gpu``, or None when it is not shown."""
        where = self._where.get((gpu.node, gpu.gpu))
        return None if where is None else where[0]

    def cell_region(self, gpu: GpuState) -> Region | None:
        """Where ``gpu``'s cell is in the scrolled content (the two fixed lines included),
        or None when it is not shown."""
        where = self._where.get((gpu.node, gpu.gpu))
        if where is None:
            return None
        line, block, slot = where
        return Region(self._layout.cell_x(block, slot), HEADER + line, 1, 1)

    # -- state to lines -------------------------------------------------------------------

    def _model_gpus(self) -> set[GpuKey]:
        if self._highlight is None:
            return set()
        return {k for k, g in self._gpus.items() if g.model == self._highlight}

    def _sync(self) -> bool:
        """Bring layout, line content and header up to date; refresh what changed. Returns
        True when the cursor had to move to another GPU."""
        width = self.scrollable_content_region.width
        by_node: dict[str, list[GpuKey]] = {}
        for key in self._gpus:
            by_node.setdefault(key[0], []).append(key)
        nodes = sorted(by_node, key=natural_key)
        self._affixes = shared_affixes(nodes)
        highlighted = self._model_gpus()
        if self._filter:
            nodes = [n for n in nodes if any(k in highlighted for k in by_node[n])]
        blocks = tuple(
            Block(n, node_label(n, self._affixes), tuple(sorted(by_node[n], key=lambda k: k[1])))
            for n in nodes
        )
        shape = (width, blocks, bool(self._gpus))
        if shape != self._shape:
            self._shape = shape
            self._layout = lay_out(blocks, width)
            self._order = [k for b in blocks for k in b.keys]
            self._where = {
                k: (y, b, s)
                for y, line in enumerate(self._layout.lines)
                for b, block in enumerate(line)
                for s, k in enumerate(block.keys)
            }
            moved = self._keep_cursor()
            self._content = self._line_content(highlighted)
            self._strips.clear()
            self._fixed.clear()
            self._summary = self._summary_text(width)
            height = HEADER + max(1, len(self._layout.lines)) if self._gpus else 1
            self.virtual_size = Size(width, height)
            self.refresh()
            if self._cursor is not None:
                self.call_after_refresh(self._scroll_to_cursor)
            return moved
        moved = self._keep_cursor()
        content = self._line_content(highlighted)
        changed = [
            y for y, (old, new) in enumerate(zip(self._content, content, strict=True)) if old != new
        ]
        self._content = content
        for y in changed:
            self._strips.pop(y, None)
        self._refresh_grid_lines(changed)
        summary = self._summary_text(width)
        if summary != self._summary:
            self._summary = summary
            self._fixed.pop(0, None)
            self.refresh(Region(0, 0, self.size.width, 1))
        return moved

    def _keep_cursor(self) -> bool:
        """Keep the cursor on its GPU; if that GPU is gone or hidden, move it to the one now
        nearest in display order. A focused grid that had nothing to point at starts on the
        first GPU. True when it moved."""
        if self._cursor is None:
            if not (self.has_focus and self._order):
                return False
            self._cursor = self._first_of_interest()
            return True
        if self._cursor in self._where:
            return False
        if not self._order:
            self._cursor = None
            return False
        node = self._cursor[0]
        after = [k for k in self._order if natural_key(k[0]) >= natural_key(node)]
        self._cursor = after[0] if after else self._order[-1]
        return True

    def _first_of_interest(self) -> GpuKey:
        """Where a cursor starts: the highlighted model's first GPU with an event, else its
        first GPU, else the fleet's first GPU with an event, else the first GPU."""
        model = self.highlighted
        mine = [k for k in self._order if model and self._gpus[k].model == model]
        for keys in (mine, self._order):
            flagged = [k for k in keys if self._events.get(k)]
            if flagged:
                return flagged[0]
            if keys:
                return keys[0]
        return self._order[0]

    def _line_content(
        self, highlighted: set[GpuKey], only: int | None = None
    ) -> list[tuple[tuple[str, int, tuple[Look, ...]], ...]]:
        """Every line's blocks as drawn, or (``only``) that one line's."""
        cursor = self._cursor if self.has_focus else None
        cursor_node = cursor[0] if cursor else None
        emphasising = bool(highlighted)
        out = []
        lines = self._layout.lines if only is None else [self._layout.lines[only]]
        for line in lines:
            blocks = []
            for block in line:
                looks = tuple(
                    self._look(k, highlighted, emphasising, k == cursor) for k in block.keys
                )
                holds = emphasising and any(k in highlighted for k in block.keys)
                label_emphasis = 1 if holds else -1 if emphasising else 0
                if block.node == cursor_node:
                    label_emphasis = 2
                blocks.append((block.label, label_emphasis, looks))
            out.append(tuple(blocks))
        return out

    def _look(self, key: GpuKey, highlighted: set[GpuKey], emphasising: bool, cursor: bool) -> Look:
        gpu = self._gpus[key]
        mark = self._marks.get(key)
        ratio = gpu.mem_ratio
        glyph = mark or (CURSOR_GLYPH if cursor else mem_glyph(ratio))
        full = ratio is not None and ratio >= FULL_AT
        alert = mark is not None or full
        emphasis = (1 if key in highlighted else -1) if emphasising else 0
        return Look(
            glyph,
            # Red cells and no-data dots ignore utilization: leaving it out of the look
            # spares their line a repaint when only the utilization moved.
            None if alert or ratio is None else util_colour(gpu.util_ratio),
            alert,
            emphasis,
            cursor,
            gpu.stale,
        )

    def _summary_text(self, width: int) -> Text:
        """One line about the whole fleet, whatever the filter hides. Where it does not fit,
        the node pattern goes first, then the node count, then mean utilization: counts of
        trouble and the filter always stay."""
        gpus = self._gpus.values()
        utils = [g.util_ratio for g in gpus if g.util_ratio is not None]
        utils = [u for u in utils if math.isfinite(u)]
        full = sum(1 for g in gpus if (g.mem_ratio or 0.0) >= FULL_AT)
        # Counted apart, unlike the cells: a GPU with an XID and an OOM counts in both
        # (its cell shows ``!``).
        kinds = [{e.kind for e in evs} for k, evs in self._events.items() if k in self._gpus]
        xid = sum(1 for ks in kinds if "xid" in ks)
        oom = sum(1 for ks in kinds if ks & OOM_KINDS)
        nodes = len({g.node for g in gpus})
        prefix, suffix = self._affixes
        mean = f"{sum(utils) / len(utils) * 100:.0f}%" if utils else "–"
        keep = 9
        parts: list[tuple[int, Text]] = [
            (keep, Text(f"{len(self._gpus)} GPUs", style="bold")),
            (3, Text(f" · {nodes} node{'s' if nodes != 1 else ''}")),
            (
                2,
                Text(printable(f" {prefix}*{suffix}" if nodes > 1 else f" {prefix}"), style="dim"),
            ),
            (4, Text(f" · util {mean}")),
            (keep, Text.assemble(" · ", (f"{FULL_GLYPH}≥95% {full}", FULL_STYLE if full else ""))),
            (keep, Text.assemble(" · ", (f"{XID_MARK} xid {xid}", "bold" if xid else ""))),
            (keep, Text.assemble(" · ", (f"{OOM_MARK} oom {oom}", "bold" if oom else ""))),
        ]
        if self._filter:
            shown = printable(self._highlight or "")
            parts.append((keep, Text(f" · filter {shown}", style="bold")))
        for drop in (0, 2, 3, 4):
            text = Text("").join(t for rank, t in parts if rank > drop)
            if text.cell_len <= width:
                break
        return text

    def _refresh_grid_lines(self, changed: Sequence[int]) -> None:
        """Refresh grid lines that are on screen, merging neighbours into one region; the
        others are drawn fresh when scrolled to."""
        top = round(self.scroll_offset.y)
        bottom = top + self.scrollable_content_region.height - HEADER
        shown = [y for y in changed if top <= y < bottom]
        start = 0
        while start < len(shown):
            end = start
            while end + 1 < len(shown) and shown[end + 1] == shown[end] + 1:
                end += 1
            self.refresh_lines(HEADER + shown[start], end - start + 1)
            start = end + 1

    # -- drawing --------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if not self._gpus:
            if y == 0:
                return self._fixed_strip(0, Text(self._message, style="dim"), width)
            return Strip.blank(width, base)
        if y == 0:
            return self._fixed_strip(0, self._summary, width)
        if y == 1:
            return self._fixed_strip(1, legend(), width)
        line = y - HEADER + round(self.scroll_offset.y)
        if not self._layout.lines and line == 0:
            note = f"No GPU here serves {self._highlight}; f shows every node."
            return self._fixed_strip(2, Text(note, style="dim"), width)
        if not 0 <= line < len(self._content):
            return Strip.blank(width, base)
        strip = self._strips.get(line)
        if strip is None or strip.cell_length != width:
            strip = self._grid_strip(line, width, base)
            self._strips[line] = strip
        return strip

    def _fixed_strip(self, y: int, text: Text, width: int) -> Strip:
        strip = self._fixed.get(y)
        if strip is None or strip.cell_length != width:
            text = text.copy()
            text.truncate(width, overflow="ellipsis")
            text.stylize_before(self.rich_style)
            segments = list(text.render(self.app.console))
            strip = Strip(segments).adjust_cell_length(width, self.rich_style)
            self._fixed[y] = strip
        return strip

    def _grid_strip(self, line: int, width: int, base: Style) -> Strip:
        label_width = self._layout.label_width
        slots = self._layout.slots
        segments: list[Segment] = []
        for i, (label, label_emphasis, looks) in enumerate(self._content[line]):
            if i:
                segments.append(Segment(" " * GAP, base))
            if label_width:
                segments.append(
                    Segment(label.rjust(label_width), base + _label_style(label_emphasis))
                )
                segments.append(Segment(" ", base))
            segments.extend(Segment(look.glyph, base + cell_style(look)) for look in looks)
            if len(looks) < slots:
                segments.append(Segment(" " * (slots - len(looks)), base))
        return Strip(segments).simplify().adjust_cell_length(width, base)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # Focus moving restyles the grid without changing how it looks (it has no focus
        # rule): the lines drawn stay good unless its colours or the theme changed.
        look = (self.rich_style, self.app.theme)
        if look != self._drawn_look:
            self._drawn_look = look
            self._strips.clear()
            self._fixed.clear()

    def on_resize(self, event: events.Resize) -> None:
        self._announce_if_moved(self._sync())
        if self.has_focus:
            self.call_after_refresh(self._scroll_to_cursor)

    def watch_has_focus(self, has_focus: bool) -> None:
        # A watcher, not on_focus: the Focus handlers of this class run before Widget's
        # sets has_focus, and the cursor is drawn only while it is set.
        super().watch_has_focus(has_focus)
        where = self._where.get(self._cursor) if self._cursor is not None else None
        if where is None or self._shape is None:
            self._announce_if_moved(self._sync())
        else:
            # Focus shows or hides the cursor and nothing else: only its line is drawn
            # anew (a whole sync looks at every GPU, most of `g`'s time on 1024 of them).
            y = where[0]
            self._content[y] = self._line_content(self._model_gpus(), only=y)[0]
            self._strips.pop(y, None)
            self._refresh_grid_lines([y])
        if has_focus:
            self._scroll_to_cursor()

    # -- cursor ---------------------------------------------------------------------------

    def _announce(self) -> None:
        gpu = self.selected
        if gpu is not None:
            self.post_message(self.GpuSelected(gpu, self.events_for(gpu)))

    def _announce_if_moved(self, moved: bool) -> None:
        if moved:
            self._announce()

    def _go(self, key: GpuKey) -> None:
        if key == self._cursor:
            return
        self._cursor = key
        self._sync()
        self._scroll_to_cursor()
        self._announce()

    def _scroll_to_cursor(self) -> None:
        gpu = self.selected
        region = self.cell_region(gpu) if gpu else None
        if region is None:
            return
        self.scroll_to_region(
            region,
            spacing=Spacing(top=HEADER),
            animate=False,
            force=True,
            immediate=True,
        )

    def _start(self) -> GpuKey | None:
        if self._cursor in self._where:
            return self._cursor
        return self._order[0] if self._order else None

    def _line_key(self, line: int, block: int, slot: int) -> GpuKey:
        blocks = self._layout.lines[line]
        keys = blocks[min(block, len(blocks) - 1)].keys
        return keys[min(slot, len(keys) - 1)]

    def action_move(self, lines: int, step: int) -> None:
        start = self._start()
        if start is None:
            return
        if start != self._cursor:
            self._go(start)
            return
        if step:
            i = self._order.index(start) + step
            self._go(self._order[max(0, min(i, len(self._order) - 1))])
            return
        line, block, slot = self._where[start]
        target = max(0, min(line + lines, len(self._layout.lines) - 1))
        self._go(self._line_key(target, block, slot))

    def action_page(self, direction: int) -> None:
        page = max(1, self.scrollable_content_region.height - HEADER - 1)
        self.action_move(direction * page, 0)

    def action_ends(self, index: int) -> None:
        if self._order:
            self._go(self._order[index])

    def action_next_event(self) -> None:
        """Jump to the next GPU with an XID or OOM mark, wrapping past the last one."""
        start = self._start()
        if start is None:
            return
        i = self._order.index(start)
        ring = self._order[i + 1 :] + self._order[: i + 1]
        for key in ring:
            if key in self._marks:
                self._go(key)
                return
        self.app.bell()

    def action_toggle_filter(self) -> None:
        """Show only the nodes holding the highlighted model's GPUs, or all again."""
        if self._highlight is None and not self._filter:
            self.app.bell()
            return
        self._filter = not self._filter
        self._announce_if_moved(self._sync())


@lru_cache(maxsize=8)
def _label_style(emphasis: int) -> Style:
    if emphasis == 2:
        return Style(bold=True, underline=True)
    if emphasis == 1:
        return Style(bold=True)
    if emphasis == -1:
        return Style(dim=True)
    return Style()
