"""Every adapter's figures as the parts of the one health query.

Part names are ``<stack>/<figure>``; each answers one figure of one stack, per model
(``warroom_model``) or for the whole API (figures ending ``_all``). Quantile parts carry
a ``quantile`` label. ``*_over`` parts give the fraction of requests past a histogram's
top finite bucket: where it exceeds 1 - q the quantile is only known to be beyond that
bound (``histogram_quantile`` then answers the bound itself), and the screen says ``>``.
"""

from __future__ import annotations

from collections.abc import Sequence

from tui.sources.promql import LATENCY_QUANTILES, QUANTILE_LABEL, tagged_union
from tui.stacks.base import INF_BUCKET, MODEL, Buckets, Query, Stack

NOTHING = "vector(0) unless vector(0)"
"""An empty instant vector: the pod map when no server stack is in use."""


def pod_map(stacks: Sequence[Stack]) -> str:
    """One series per model-server pod (``namespace``, ``pod``, ``warroom_model``) from
    every server stack; a pod two stacks both claim keeps one model (``topk``), so a
    join through it can never match many-to-many."""
    maps = [m for s in stacks if (m := s.pods()) is not None]
    if not maps:
        return NOTHING
    return f"topk by (namespace, pod) (1, {' or '.join(maps)})"


def _quantiles(b: Buckets, by: str) -> str:
    grouping = f"sum by ({by}) ({b.expr})"
    scale = "" if b.unit_s == 1 else f" * {b.unit_s:g}"
    return tagged_union(
        {q: f"histogram_quantile({q}, {grouping}){scale}" for q in LATENCY_QUANTILES},
        QUANTILE_LABEL,
    )


def _p99(b: Buckets, by: str) -> str:
    scale = "" if b.unit_s == 1 else f" * {b.unit_s:g}"
    return f"histogram_quantile(0.99, sum by ({by}) ({b.expr})){scale}"


def _over(b: Buckets, by: str | None) -> str:
    """Fraction of observations past the top finite bucket (cumulative counts: the top
    finite bucket is the fullest one that is not ``+Inf``)."""
    group = f" by ({by})" if by else ""
    sums = f"sum by ({by + ', ' if by else ''}le) ({b.expr})"
    finite = f"max{group} ({sums} unless on (le) {INF_BUCKET})"
    total = f"sum{group} ({sums} and on (le) {INF_BUCKET})"
    return f"1 - {finite} / {total}"


def stack_parts(stack: Stack, q: Query) -> dict[str, str]:
    """The parts ``stack`` can answer, by name; a figure it has no source for is absent."""
    parts: dict[str, str] = {}
    n = stack.name
    totals = stack.totals(q)
    for figure in ("requests", "errors", "limited"):
        expr = getattr(stack, figure)(q)
        if expr is None:
            continue
        parts[f"{n}/{figure}"] = expr
        parts[f"{n}/{figure}_all"] = totals.get(figure) or f"sum({expr})"
    for figure, buckets in (("latency", stack.latency(q)), ("ttft", stack.ttft(q))):
        if buckets is None:
            continue
        if figure == "latency":
            parts[f"{n}/latency"] = _quantiles(buckets, f"{MODEL}, le")
            parts[f"{n}/latency_all"] = _quantiles(buckets, "le")
        else:
            parts[f"{n}/ttft"] = _p99(buckets, f"{MODEL}, le")
            parts[f"{n}/ttft_all"] = _p99(buckets, "le")
        parts[f"{n}/{figure}_over"] = _over(buckets, MODEL)
        parts[f"{n}/{figure}_over_all"] = _over(buckets, None)
    queue = stack.queue(q)
    if queue is not None:
        parts[f"{n}/queue"] = queue
        parts[f"{n}/queue_all"] = f"sum({queue})"
    kv = stack.kv_cache(q)
    if kv is not None:
        parts[f"{n}/kv_cache"] = kv
        parts[f"{n}/kv_cache_all"] = f"max({kv})"
    return parts


def health_parts(stacks: Sequence[Stack], q: Query) -> dict[str, str]:
    out: dict[str, str] = {}
    for stack in stacks:
        out.update(stack_parts(stack, q))
    return out
