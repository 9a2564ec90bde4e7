"""The answers of every adapter's parts folded into model rows and the whole-API row.

Which stack speaks for a figure: for traffic (requests, 5xx, 429) and latency, the
gateway stacks that report the model, since they see what callers see; a model no
gateway reports (or a figure no gateway has a source for) falls back to the model
servers' own view. TTFT, queue and KV cache come from the servers. Several stacks
feeding one figure (a mixed vLLM + SGLang fleet, two gateways) add up rates and take
the worst quantile: their histograms have different buckets and cannot be merged.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from tui.domain.model import AGGREGATE, ModelHealth
from tui.sources.promql import LATENCY_QUANTILES, QUANTILE_LABEL
from tui.sources.stacks.base import MODEL, Stack
from tui.sources.stacks.compose import TOP_LABEL

ALL = ""
"""The key the whole-API figures are kept under, beside the model names."""
QUANTILE_FIELDS = dict(zip(LATENCY_QUANTILES, ("p50_s", "p95_s", "p99_s"), strict=True))

Sample = tuple[Mapping[str, str], float | None]


@dataclass
class _Figures:
    """One stack's figures for one model (or the whole API)."""

    values: dict[str, float | None] = field(default_factory=dict)
    group: int = 0
    """For the whole API: stacks of one group saw the same requests (they report common
    models); different groups saw different ones."""

    def get(self, name: str) -> float | None:
        return self.values.get(name)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def fold(
    stacks: Sequence[Stack], by_part: Mapping[str, Iterable[Sample]]
) -> tuple[tuple[ModelHealth, ...], ModelHealth]:
    """Model rows (unordered) and the whole-API row from the parts' samples."""
    figures: dict[str, dict[str, _Figures]] = {s.name: defaultdict(_Figures) for s in stacks}
    for part, samples in by_part.items():
        stack, _, figure = part.partition("/")
        if stack not in figures:
            continue
        whole = figure.endswith("_all")
        figure = figure.removesuffix("_all")
        for labels, value in samples:
            key = ALL if whole else labels.get(MODEL)
            if key is None:
                continue
            name = figure
            if figure == "latency":
                name = QUANTILE_FIELDS.get(labels.get(QUANTILE_LABEL, ""), "")
                if not name:
                    continue
            elif figure.endswith("_over"):
                # The top finite bucket's rate and the +Inf bucket's, kept apart.
                name = f"{figure}_{labels.get(TOP_LABEL) or 'finite'}"
            figures[stack][key].values[name] = _finite(value)
    names = sorted({k for per in figures.values() for k in per if k != ALL})
    rows = tuple(_row(name, name, stacks, figures) for name in names)
    # The whole API: stacks that serve different models (a vLLM + SGLang fleet) add up;
    # stacks that report the same models (vLLM's engine and its HTTP server, two
    # gateways in a row) saw the same requests, and the busiest one of them speaks.
    served = {
        s.name: {k for k, f in figures[s.name].items() if k != ALL and f.get("requests")}
        for s in stacks
    }
    for i, group in enumerate(_sharing(stacks, served)):
        for name in group:
            figures[name][ALL].group = i
    return rows, _row(AGGREGATE, ALL, stacks, figures)


def _sharing(stacks: Sequence[Stack], served: Mapping[str, set[str]]) -> list[set[str]]:
    """Stacks grouped so that any two of one layer that report a common model share a
    group (transitively)."""
    groups: list[set[str]] = []
    for s in stacks:
        joined = {s.name}
        for g in [g for g in groups if any(
            t.name in g and t.layer == s.layer and served[t.name] & served[s.name]
            for t in stacks
        )]:  # fmt: skip
            joined |= g
            groups.remove(g)
        groups.append(joined)
    return groups


def _row(
    name: str,
    key: str,
    stacks: Sequence[Stack],
    figures: Mapping[str, Mapping[str, _Figures]],
) -> ModelHealth:
    """One row: a model's (whose stacks all saw its same requests) or the whole API's
    (stacks add up across `_Figures.group`, the busiest speaks within one)."""

    def having(figure: str, layer: str | None = None) -> list[_Figures]:
        return [
            f for s in stacks
            if (layer is None or s.layer == layer)
            and key in figures[s.name]
            and (f := figures[s.name][key]).get(figure) is not None
        ]  # fmt: skip

    def first_layer(figure: str) -> list[_Figures]:
        return having(figure, "gateway") or having(figure, "server")

    def speaking(found: list[_Figures]) -> list[_Figures]:
        busiest: dict[int, _Figures] = {}
        for f in found:
            held = busiest.get(f.group)
            if held is None or (f.get("requests") or 0.0) > (held.get("requests") or 0.0):
                busiest[f.group] = f
        return list(busiest.values())

    traffic = first_layer("requests")
    fields: dict[str, object] = {
        "rps": sum(f.get("requests") or 0.0 for f in speaking(traffic)) if traffic else None
    }
    for figure, ratio in (("errors", "error_5xx_ratio"), ("limited", "rate_429_ratio")):
        fed = [f for f in traffic if f.get(figure) is not None] or [
            f for f in first_layer(figure) if f.get("requests") is not None
        ]
        fed = speaking(fed)
        total = sum(f.get("requests") or 0.0 for f in fed)
        part = sum(f.get(figure) or 0.0 for f in fed)
        fields[ratio] = part / total if fed and total > 0 else None
    beyond: set[str] = set()
    latency = first_layer("p99_s") or first_layer("p50_s")
    for q, fld in QUANTILE_FIELDS.items():
        value, past = _worst(latency, fld, "latency_over", 1 - float(q))
        fields[fld] = value
        if past:
            beyond.add(fld)
    value, past = _worst(having("ttft"), "ttft", "ttft_over", 0.01)
    fields["ttft_p99_s"] = value
    if past:
        beyond.add("ttft_p99_s")
    queues = having("queue")
    fields["queue_depth"] = sum(f.get("queue") or 0.0 for f in queues) if queues else None
    kv = [f.get("kv_cache") or 0.0 for f in having("kv_cache")]
    fields["kv_cache_ratio"] = max(kv) if kv else None
    return ModelHealth(model=name, beyond=frozenset(beyond), **fields)  # type: ignore[arg-type]


def _worst(found: list[_Figures], figure: str, over: str, tail: float) -> tuple[float | None, bool]:
    """The largest ``figure`` among ``found`` and whether it lies past its histogram's top
    finite bucket (more than ``tail`` of the requests are beyond that bound)."""
    best: tuple[float, bool] | None = None
    for f in found:
        value = f.get(figure)
        if value is None:
            continue
        past = (_beyond_top(f, over) or 0.0) > tail + 1e-9
        if best is None or (value, past) > best:
            best = (value, past)
    return (None, False) if best is None else best


def _beyond_top(f: _Figures, over: str) -> float | None:
    """The share of requests past the histogram's top finite bucket, from its ``*_over``
    part (None where it was not read or there was no traffic)."""
    finite, total = f.get(f"{over}_finite"), f.get(f"{over}_inf")
    if finite is None or not total:
        return None
    return max(0.0, 1.0 - finite / total)


def unsourced(stacks: Sequence[Stack], parts: Iterable[str]) -> frozenset[str]:
    """The `ModelHealth` fields no stack in use has a source for."""
    have = {p.partition("/")[2] for p in parts}
    fed = {
        "rps": "requests", "error_5xx_ratio": "errors", "rate_429_ratio": "limited",
        "p50_s": "latency", "p95_s": "latency", "p99_s": "latency",
        "ttft_p99_s": "ttft", "queue_depth": "queue", "kv_cache_ratio": "kv_cache",
    }  # fmt: skip
    return frozenset(fld for fld, figure in fed.items() if figure not in have)
