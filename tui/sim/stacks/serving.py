"""Which simulated model server serves which model, and the pieces the server emitters share.

**The split rule.** Each model-server emitter belongs to one server family: ``vllm``
(``vllm``, ``vllm-underscore`` and ``vllm_http``, vLLM's HTTP server, which sits in
the same pod as its engine), ``sglang`` (``sglang``, ``sglang-underscore``) and ``tgi``.
With one family chosen it serves every model. With several, the family named first in
``--stack`` serves the fleet but for: the second family named, every third model
(fleet index 2, 5, 8…), and the third family named, index 1, 4, 7…. So
``--stack vllm,sglang`` gives SGLang models 2, 5, 8, 11 and vLLM the other eight, and
``--stack generic,vllm,dcgm`` (the default, one family) is what it always was. The
gateway and dcgm-exporter see every model whatever the split; a model's pods keep their
fleet names (``<deployment>-<replicaset hash>-<suffix>``) whichever server runs in them.

The helpers below turn the engine's per-model counters into per-pod ones (a model's
requests spread evenly over its pods) and re-bucket its histograms at an exporter's own
bounds.
"""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Sequence
from dataclasses import replace

from tui.sim.engine import HistogramSample
from tui.sim.fleet import Fleet
from tui.sim.stacks.reading import Reading

FAMILY = {
    "vllm": "vllm",
    "vllm-underscore": "vllm",
    "vllm_http": "vllm",
    "sglang": "sglang",
    "sglang-underscore": "sglang",
    "tgi": "tgi",
}
"""Each model-server emitter's family; emitters not listed see the whole fleet."""
SECONDARY_SLOTS = (2, 1)
"""Fleet index modulo 3 that the second and third family named serve."""


@functools.lru_cache(maxsize=64)
def served(fleet: Fleet, stacks: tuple[str, ...]) -> dict[str, frozenset[str]]:
    """Model names by server family, for the emitters ``stacks`` (the split rule)."""
    families = list(dict.fromkeys(FAMILY[s] for s in stacks if s in FAMILY))
    names = [m.name for m in fleet.models]
    if len(families) <= 1:
        return {f: frozenset(names) for f in families}
    out: dict[str, frozenset[str]] = {}
    claimed: set[str] = set()
    for family, slot in zip(families[1:], SECONDARY_SLOTS, strict=False):
        mine = frozenset(n for i, n in enumerate(names) if i % 3 == slot)
        out[family] = mine
        claimed |= mine
    out[families[0]] = frozenset(n for n in names if n not in claimed)
    return out


def portion(reading: Reading, name: str, stacks: tuple[str, ...]) -> Reading:
    """What emitter ``name`` sees of ``reading`` when ``stacks`` are served together:
    only the models (and their pods and GPUs) its family serves."""
    family = FAMILY.get(name)
    split = served(reading.fleet, stacks)
    if family is None or len(split) <= 1:
        return reading
    mine = split[family]
    fleet = replace(reading.fleet, models=tuple(m for m in reading.fleet.models if m.name in mine))
    return replace(
        reading,
        fleet=fleet,
        pods=[p for p in reading.pods if p.model in mine],
        gpus=[g for g in reading.gpus if g.gpu.model in mine],
    )


def cumulative_at(h: HistogramSample, bounds: Sequence[float]) -> list[float]:
    """The cumulative count of ``h`` at each finite bound of an exporter's histogram:
    exact where the engine has that bound, linear between the engine's bounds (as
    ``histogram_quantile`` reads a bucket), 0 at 0 s, and the top finite count past the
    engine's top finite bound. A fixed mix of counters that only grow, so the result only
    grows too."""
    known = [(0.0, 0.0)] + [
        (le, c) for le, c in zip(h.bounds, h.counts, strict=True) if math.isfinite(le)
    ]
    edges = [le for le, _ in known]
    out = []
    for b in bounds:
        i = bisect.bisect_left(edges, b)
        if i < len(edges) and edges[i] == b:
            out.append(known[i][1])
        elif i >= len(edges):
            out.append(known[-1][1])
        else:
            (lo, c_lo), (hi, c_hi) = known[i - 1], known[i]
            out.append(c_lo + (c_hi - c_lo) * (b - lo) / (hi - lo))
    return out


def per_pod(count: float, pods: int) -> int:
    """One pod's whole share of a model's counter (every pod takes the same share)."""
    return max(0, math.floor(count / pods))
