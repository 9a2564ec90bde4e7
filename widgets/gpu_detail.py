"""The GPU under the grid's cursor, in words: where it is, who holds it, how full it is,
and what went wrong on it lately.

The grid's one-cell encoding answers "where"; this pane answers "what exactly", with the
figures and the last few events an on-call engineer quotes in the incident channel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC

from rich.text import Text
from textual.widgets import Static

from tui.format import NO_DATA
from tui.model import GpuEvent, GpuState
from widgets.gpu_grid import ALERT_STYLE, FULL_AT, FULL_STYLE, OOM_KINDS, OOM_MARK, XID_MARK

EVENTS_SHOWN = 3
GIB = 1024**3
HINT = "No GPU selected: focus the grid, move with the arrows; e jumps to the next event."


def _num(value: float | None, fmt: str, unit: str) -> str:
    if value is None or not math.isfinite(value):
        return NO_DATA
    return f"{value:{fmt}}{unit}"


def _memory(gpu: GpuState) -> Text:
    used, total, ratio = gpu.mem_used_bytes, gpu.mem_total_bytes, gpu.mem_ratio
    if used is None or not math.isfinite(used):
        return Text(f"mem {NO_DATA}")
    text = Text(f"mem {used / GIB:.1f}")
    if total:
        text.append(f"/{total / GIB:.1f}")
    text.append(" GiB")
    if ratio is not None:
        full = ratio >= FULL_AT
        text.append(f" {ratio * 100:.1f}%", style=FULL_STYLE if full else "")
        if full:
            text.append(" ⚠ full", style=FULL_STYLE)
    return text


def _event_line(event: GpuEvent) -> Text:
    mark = XID_MARK if event.kind == "xid" else OOM_MARK if event.kind in OOM_KINDS else "?"
    text = Text(f"{event.at.astimezone(UTC):%H:%M:%S} UTC ")
    text.append(mark, style=ALERT_STYLE)
    text.append(f" {event.kind:<9} ", style="bold")
    text.append(event.detail)
    return text


def describe(gpu: GpuState, events: Sequence[GpuEvent]) -> Text:
    """The pane's text: a few lines, each cut at the pane's width (see the CSS) rather than
    wrapped, so the pane keeps its height as the cursor moves."""
    head = Text.assemble((gpu.node, "bold"), f"  GPU {gpu.gpu}  ", (gpu.uuid, "dim"))
    if gpu.product:
        head.append(f"  {gpu.product}", style="dim")
    if gpu.stale:
        head.append("  (stale)", style="bold")

    pod = f"{gpu.namespace}/{gpu.pod}" if gpu.namespace and gpu.pod else gpu.pod
    who = Text("model ")
    who.append(gpu.model or "(none)", style="bold" if gpu.model else "dim")
    who.append(f"  pod {pod or NO_DATA}")

    util = None if gpu.util_ratio is None else gpu.util_ratio * 100
    figures = Text(f"util {_num(util, '.0f', '%')}  ")
    figures.append_text(_memory(gpu))
    figures.append(f"  {_num(gpu.temp_c, '.0f', '°C')}  {_num(gpu.power_w, '.0f', ' W')}  ")
    if gpu.xid:
        figures.append(f"last XID {gpu.xid}", style="bold")
    else:
        figures.append(f"last XID {'none' if gpu.xid == 0 else NO_DATA}")

    lines = [head, who, figures]
    if gpu.processes:
        procs = [
            f"{p.pid} {p.name or '?'} "
            + _num(None if p.used_bytes is None else p.used_bytes / GIB, ".1f", " GiB")
            for p in gpu.processes
        ]
        lines.append(Text("procs " + "  ".join(procs)))
    newest = sorted(events, key=lambda e: e.at, reverse=True)[:EVENTS_SHOWN]
    lines.extend(_event_line(e) for e in newest)
    return Text("\n").join(lines)


class GpuDetail(Static):
    """Renders the one GPU it is given (from `GpuGrid.GpuSelected`); it never reads a source."""

    DEFAULT_CSS = """
    GpuDetail { height: auto; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(Text(HINT, style="dim"), id=id, classes=classes)
        self.gpu: GpuState | None = None

    def show(self, gpu: GpuState | None, events: Sequence[GpuEvent] = ()) -> None:
        """``events`` are this GPU's; at most the newest three are listed. ``None`` shows
        the hint."""
        self.gpu = gpu
        self.update(Text(HINT, style="dim") if gpu is None else describe(gpu, events))
