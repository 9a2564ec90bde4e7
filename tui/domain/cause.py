"""Why a model's 5xx rose, when the GPU evidence says: pure analysis, no I/O.

A GPU OOM surfaces at the gateway as a plain 5xx. When a model's 5xx ratio is up (at
or past the warning line) and its own pods or GPUs logged CUDA OOMs, were OOMKilled or
raised a new XID inside the look-back window, the evidence points downstream: the
health pane says so beside the model, and `warroom snapshot --json` carries it as
``suspected_cause``.

Three causes, as the runbooks tell them apart: a **GPU OOM** is a CUDA out-of-memory
error in the model server's log (the GPU's memory); a **host OOM** is a container the
kernel killed for passing its memory limit (Kubernetes' ``lastState.terminated.reason:
OOMKilled``, exit 137: host memory, not the GPU's); an **XID** is a GPU fault the driver
reported. The first found in that order names the cause; the tally counts them all.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from tui.config import Slo
from tui.domain.model import GpuEvent, GpuState, ModelHealth
from tui.domain.severity import Judged, error_rose, rank

T = TypeVar("T")
GPU_OOM_KINDS = ("oom",)
"""Events that say the GPU's memory ran out: CUDA OOMs in a model server's log."""
HOST_OOM_KINDS = ("oomkilled",)
"""Events that say the container's (host) memory limit was passed: OOMKilled, exit 137."""
MAX_NODES_NAMED = 3
HOST_OOM = "host OOM (container memory limit)"


@dataclass(frozen=True, slots=True)
class SuspectedCause:
    model: str
    kind: str
    """``gpu_oom`` (CUDA OOMs behind the model), ``host_oom`` (containers OOMKilled, no
    CUDA OOM) or ``gpu_xid`` (XIDs only)."""
    summary: str
    """One sentence: the `headline` and the tally of events behind it."""
    headline: str
    """``5xx likely downstream of GPU OOM on gpu-node-006 GPU 6, 7``."""
    short: str
    """The same for a narrow column: ``GPU OOM gpu-node-006 GPU 6,7``."""
    gpus: tuple[tuple[str, int], ...]
    """(node, GPU index) the evidence names, in order."""
    pods: tuple[str, ...]
    counts: dict[str, int]
    """Events behind it by kind."""

    def as_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "summary": self.summary,
            "gpus": [{"node": n, "gpu": g} for n, g in self.gpus],
            "pods": list(self.pods),
            "events": dict(self.counts),
        }


def suspect(
    models: Iterable[ModelHealth],
    gpus: Sequence[GpuState],
    events: Sequence[GpuEvent],
    slo: Slo,
    *,
    now: datetime,
    within_s: float,
    verdicts: Judged,
) -> dict[str, SuspectedCause]:
    """The suspected cause of each model whose 5xx rose, where GPU evidence points to one;
    sickest model first, as the health pane orders them (by ``verdicts``)."""
    placement = Placement.of(gpus)
    recent = recent_events(events, now=now, within_s=within_s)
    causes = {}
    for m in rank(models, slo, verdicts):
        if not error_rose(m, slo):
            continue
        behind = placement.behind(m.model, recent)
        if behind:
            causes[m.model] = _cause(m.model, behind, within_s)
    return causes


@dataclass(frozen=True, slots=True)
class Placement:
    """Which pods and GPUs serve each model, as the GPU source reports them."""

    pods: dict[str, set[str]]
    places: dict[str, set[tuple[str, int]]]

    @classmethod
    def of(cls, gpus: Iterable[GpuState]) -> Placement:
        pods: dict[str, set[str]] = defaultdict(set)
        places: dict[str, set[tuple[str, int]]] = defaultdict(set)
        for g in gpus:
            if g.model:
                places[g.model].add((g.node, g.gpu))
                if g.pod:
                    pods[g.model].add(g.pod)
        return cls(pods, places)

    def behind(self, model: str, events: Iterable[GpuEvent]) -> list[GpuEvent]:
        """The events that happened to ``model``'s pods or GPUs (or name it)."""
        pods = self.pods.get(model, set())
        places = self.places.get(model, set())
        return [e for e in events if e.model == model or e.pod in pods or (e.node, e.gpu) in places]


def recent_events(events: Iterable[GpuEvent], *, now: datetime, within_s: float) -> list[GpuEvent]:
    """Events inside the look-back window. No upper bound: an event stamped a millisecond
    past ``now`` (a range query's end is rounded to the millisecond) is still evidence."""
    horizon = now - timedelta(seconds=within_s)
    return [e for e in events if e.at >= horizon]


def _cause(model: str, events: list[GpuEvent], within_s: float) -> SuspectedCause:
    gpu_ooms = [e for e in events if e.kind in GPU_OOM_KINDS]
    host_ooms = [e for e in events if e.kind in HOST_OOM_KINDS]
    counts = Counter(e.kind for e in events)
    tally = ", ".join(f"{n} {_KIND_NAMES[k]}" for k, n in sorted(counts.items()))
    span = f"{within_s / 60:.0f}m" if within_s >= 60 else f"{within_s:.0f}s"
    pods = tuple(_ordered(e.pod for e in events if e.pod))
    if not gpu_ooms and host_ooms:
        # The kernel killed the container for host memory: which GPU it held says nothing
        # about the cause, the node and the pod do.
        nodes = _ordered(e.node for e in host_ooms if e.node)
        headline = f"5xx likely downstream of {HOST_OOM} on {_where([], nodes)}"
        return SuspectedCause(
            model=model,
            kind="host_oom",
            summary=f"{headline} ({tally} in the last {span})",
            headline=headline,
            short=f"host OOM {_where([], nodes, compact=True)}",
            gpus=(),
            pods=pods,
            counts=dict(counts),
        )
    named = gpu_ooms or events
    kind = "gpu_oom" if gpu_ooms else "gpu_xid"
    what = "GPU OOM" if gpu_ooms else _latest(events).detail
    gpus = _ordered((e.node, e.gpu) for e in named if e.node and e.gpu is not None)
    # A log line from a pod the GPU source does not place names its node but no GPU.
    bare_nodes = _ordered(e.node for e in named if e.node and e.gpu is None)
    bare_nodes = [n for n in bare_nodes if n not in {node for node, _ in gpus}]
    where = _where(gpus, bare_nodes)
    headline = f"5xx likely downstream of {what} on {where}"
    summary = f"{headline} ({tally} in the last {span})"
    short = (
        f"{'GPU OOM' if gpu_ooms else what.split(' (')[0]} {_where(gpus, bare_nodes, compact=True)}"
    )
    return SuspectedCause(
        model=model,
        kind=kind,
        summary=summary,
        headline=headline,
        short=short,
        gpus=tuple(gpus),
        pods=pods,
        counts=dict(counts),
    )


_KIND_NAMES = {"oom": "CUDA OOM", "oomkilled": "OOMKilled", "xid": "XID"}


def _latest(events: Sequence[GpuEvent]) -> GpuEvent:
    return max(events, key=lambda e: e.at)


def _ordered(items: Iterable[T | None]) -> list[T]:
    """Distinct items in first-seen order."""
    seen: dict[T, None] = {}
    for item in items:
        if item is not None:
            seen.setdefault(item, None)
    return list(seen)


def _where(gpus: list[tuple[str, int]], nodes: list[str], *, compact: bool = False) -> str:
    """``gpu-node-006 GPU 6, 7; gpu-node-009`` — at most a few nodes, then a count."""
    by_node: dict[str, list[int]] = defaultdict(list)
    for node, index in gpus:
        by_node[node].append(index)
    sep = "," if compact else ", "
    parts = [f"{node} GPU {sep.join(map(str, sorted(ix)))}" for node, ix in by_node.items()]
    parts += nodes
    if len(parts) > MAX_NODES_NAMED:
        more = len(parts) - MAX_NODES_NAMED
        parts = [*parts[:MAX_NODES_NAMED], f"{more} more node{'s' if more > 1 else ''}"]
    return "; ".join(parts) if parts else "its pods"
