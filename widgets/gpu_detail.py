"""The GPU under the grid's cursor, in words: where it is, who holds it, how full it is,
and what went wrong on it lately.

The grid's one-cell encoding answers "where"; this pane answers "what exactly", with the
figures and the last few events an on-call engineer quotes in the incident channel.

vLLM pre-allocates most of the framebuffer (``--gpu-memory-utilization``, 0.9 by default)
whatever its load, so a serving GPU always reads ~90 % used: the memory-pressure signal is
its model's KV-cache usage (``vllm:kv_cache_usage_perc``, the fullest pod), shown beside
the model when the health pane knows it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC

from rich.text import Text
from textual.widgets import Static

from tui.domain.format import NO_DATA, model_label, printable
from tui.domain.model import GpuEvent, GpuState, ModelHealth
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
    text.append(printable(event.detail))  # a log line: outside text
    return text


def _kv_cache(ratio: float | None) -> Text:
    if ratio is None or not math.isfinite(ratio):
        return Text()
    full = ratio >= FULL_AT
    text = Text("  KV cache ")
    text.append(f"{ratio * 100:.0f}%", style=FULL_STYLE if full else "bold")
    if full:
        text.append(" ⚠ full", style=FULL_STYLE)
    return text


def describe(
    gpu: GpuState, events: Sequence[GpuEvent], kv_cache_ratio: float | None = None
) -> Text:
    """The pane's text: a few lines, each cut at the pane's width (see the CSS) rather than
    wrapped, so the pane keeps its height as the cursor moves. ``kv_cache_ratio`` is the
    KV-cache usage of the model the GPU serves (0..1), shown beside it when known."""
    # Every name here is a label value from an exporter: made inert before it is drawn.
    head = Text.assemble(
        (printable(gpu.node), "bold"), f"  GPU {gpu.gpu}  ", (printable(gpu.uuid), "dim")
    )
    if gpu.product:
        head.append(f"  {printable(gpu.product)}", style="dim")
    if gpu.stale:
        head.append("  (stale)", style="bold")

    pod = f"{gpu.namespace}/{gpu.pod}" if gpu.namespace and gpu.pod else gpu.pod
    pod = printable(pod) if pod else pod
    who = Text("model ")
    who.append(model_label(gpu.model) if gpu.model else "(none)",
               style="bold" if gpu.model else "dim")  # fmt: skip
    if gpu.model:
        who.append_text(_kv_cache(kv_cache_ratio))
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
            f"{p.pid} {printable(p.name or '?')} "
            + _num(None if p.used_bytes is None else p.used_bytes / GIB, ".1f", " GiB")
            for p in gpu.processes
        ]
        lines.append(Text("procs " + "  ".join(procs)))
    newest = sorted(events, key=lambda e: e.at, reverse=True)[:EVENTS_SHOWN]
    lines.extend(_event_line(e) for e in newest)
    return Text("\n").join(lines)


def kv_cache_by_model(models: Iterable[ModelHealth]) -> dict[str, float]:
    """Served model -> its KV-cache usage, for the models whose usage is known."""
    return {
        m.model: m.kv_cache_ratio
        for m in models
        if m.kv_cache_ratio is not None and math.isfinite(m.kv_cache_ratio)
    }


class GpuDetail(Static):
    """Renders the one GPU it is given (from `GpuGrid.GpuSelected`) and, from the models'
    health it is given (`set_models`), the KV-cache usage of the model that GPU serves; it
    never reads a source."""

    DEFAULT_CSS = """
    GpuDetail { height: auto; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(Text(HINT, style="dim"), id=id, classes=classes)
        self.gpu: GpuState | None = None
        self._events: tuple[GpuEvent, ...] = ()
        self._kv_cache: Mapping[str, float] = {}

    def show(self, gpu: GpuState | None, events: Sequence[GpuEvent] = ()) -> None:
        """``events`` are this GPU's; at most the newest three are listed. ``None`` shows
        the hint."""
        self.gpu = gpu
        self._events = tuple(events)
        self._render_gpu()

    def set_models(self, models: Iterable[ModelHealth]) -> None:
        """The models' health as the pane last read it: where the shown GPU's model is among
        them, its KV-cache usage is shown (again, as it changes)."""
        kv = kv_cache_by_model(models)
        if kv == self._kv_cache:
            return
        self._kv_cache = kv
        if self.gpu is not None:
            self._render_gpu()

    def _render_gpu(self) -> None:
        gpu = self.gpu
        if gpu is None:
            self.update(Text(HINT, style="dim"))
            return
        kv = self._kv_cache.get(gpu.model) if gpu.model else None
        self.update(describe(gpu, self._events, kv))
