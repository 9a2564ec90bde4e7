"""Every adapter's figures as the parts of the one health query.

Part names are ``<stack>/<figure>``; each answers one figure of one stack, per model
(``warroom_model``) or for the whole API (figures ending ``_all``). Quantile parts carry
a ``quantile`` label. ``*_over`` parts give, per model, the count in a histogram's top
finite bucket and in its ``+Inf`` bucket (told apart by ``warroom_top``): where more
than 1 - q of the requests lie past the top finite bound, the q-quantile is only known
to be beyond it (``histogram_quantile`` then answers the bound itself), and the screen
says ``>``.

A histogram's bucket rates are the costly part of the query (about 25 ms each time
Prometheus evaluates them at 200 models), and PromQL evaluates a subexpression each time
it appears: the parts are written to need as few evaluations as they can, and a model
server's latency is read only when no gateway reports latency (`health_parts`).
"""

from __future__ import annotations

from collections.abc import Sequence

from tui.sources.promql import LATENCY_QUANTILES, QUANTILE_LABEL, escape_label_value, tagged_union
from tui.sources.stacks.base import MODEL, Buckets, Query, Stack

TOP_LABEL = "warroom_top"
"""On an ``*_over`` part: ``inf`` for the ``+Inf`` bucket's count, empty for the top
finite bucket's (the fullest bucket that is not ``+Inf``: counts are cumulative)."""
INF = "inf"

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


def quantile(q: str, b: Buckets, by: str) -> str:
    """The ``q`` quantile of ``b`` grouped ``by`` (``le`` included), in seconds."""
    scale = "" if b.unit_s == 1 else f" * {b.unit_s:g}"
    return f"histogram_quantile({q}, sum by ({by}) ({b.expr})){scale}"


def _quantiles(b: Buckets, by: str) -> str:
    return tagged_union({q: quantile(q, b, by) for q in LATENCY_QUANTILES}, QUANTILE_LABEL)


def _over(b: Buckets, by: str | None) -> str:
    """The top finite bucket's and the ``+Inf`` bucket's rates, by ``by``, from one
    evaluation of the buckets: the ``+Inf`` bucket is marked ``warroom_top="inf"`` and
    the largest of each kind kept (counts are cumulative)."""
    sums = f"sum by ({by + ', ' if by else ''}le) ({b.expr})"
    marked = (f'label_replace({sums}, "{TOP_LABEL}", "{INF}", "le", '
              f'"{escape_label_value(chr(92) + "+Inf")}")')  # fmt: skip
    return f"max by ({by + ', ' if by else ''}{TOP_LABEL}) ({marked})"


def stack_parts(stack: Stack, q: Query, *, latency: bool = True) -> dict[str, str]:
    """The parts ``stack`` can answer, by name; a figure it has no source for is absent.
    ``latency``: whether its latency is read (a model server's is not where a gateway
    reports latency: the gateway speaks for it, `tui.sources.stacks.fold`)."""
    parts: dict[str, str] = {}
    n = stack.name
    totals = stack.totals(q)
    for figure in ("requests", "errors", "limited"):
        expr = getattr(stack, figure)(q)
        if expr is None:
            continue
        parts[f"{n}/{figure}"] = expr
        parts[f"{n}/{figure}_all"] = totals.get(figure) or f"sum({expr})"
    histograms = (("latency", stack.latency(q) if latency else None), ("ttft", stack.ttft(q)))
    for figure, buckets in histograms:
        if buckets is None:
            continue
        if figure == "latency":
            parts[f"{n}/latency"] = _quantiles(buckets, f"{MODEL}, le")
            parts[f"{n}/latency_all"] = _quantiles(buckets, "le")
        else:
            parts[f"{n}/ttft"] = quantile("0.99", buckets, f"{MODEL}, le")
            parts[f"{n}/ttft_all"] = quantile("0.99", buckets, "le")
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
    gateway_latency = any(s.layer == "gateway" and s.latency(q) is not None for s in stacks)
    out: dict[str, str] = {}
    for stack in stacks:
        out.update(stack_parts(stack, q, latency=stack.layer == "gateway" or not gateway_latency))
    return out
