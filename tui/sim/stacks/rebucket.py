"""The engine's cumulative histograms re-cut to a real exporter's bucket bounds.

The engine keeps each latency histogram at its own bounds (`tui.sim.engine`:
``GATEWAY_BUCKETS``, ``E2E_BUCKETS``, ``TTFT_BUCKETS``); a real exporter has its own, and
``histogram_quantile`` only behaves as it does in production on those. A bound the
engine has is read as it is. A bound between two of the engine's is **linearly
interpolated** between their cumulative counts (the same assumption
``histogram_quantile`` makes inside a bucket); below the engine's first bound from 0 at
0. A finite bound past the engine's top finite one takes the count at that top bound
(**nearest lower bound**): requests the engine only knows were slower than its top
bound stay beyond every finite bound, so no observation is invented.

The engine counts the gateway's rejections (429s) as observations of
`tui.sim.engine.REJECTED_LATENCY_S` each; they are placed exactly (``instant``), or left
out for an exporter that never times a rejected request.

Every result is a fixed non-negative combination of the engine's cumulative counts, so
it only grows as they grow; whole requests (floored) keep it a valid counter.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from tui.sim.engine import REJECTED_LATENCY_S, HistogramSample

Spelling = Callable[[float], str]


def go_le(bound: float) -> str:
    """``le`` as Go's client_golang writes it (``strconv.FormatFloat(b, 'g', -1, 64)``):
    ``1``, ``2.5``, ``3600``, ``+Inf``."""
    return "+Inf" if math.isinf(bound) else f"{bound:g}"


def python_le(bound: float) -> str:
    """``le`` as Python's prometheus-client writes it (``floatToGoString``): ``1.0``,
    ``0.005``, ``600.0``, ``+Inf``."""
    from prometheus_client.utils import floatToGoString

    return str(floatToGoString(bound))


def whole(value: float) -> int:
    """A cumulative count as whole requests. Rounding to 1e-6 first keeps float noise
    (a count just under an integer one scrape, on it the next) from reading as a
    counter reset."""
    return max(0, math.floor(round(value, 6)))


def cumulative(
    h: HistogramSample,
    bounds: Sequence[float],
    *,
    instant: float = 0.0,
    keep_instant: bool = True,
) -> list[float]:
    """Cumulative counts of ``h`` at ``bounds`` (ascending, ending ``inf``), not floored.

    ``instant``: how many of ``h``'s observations are rejections at
    `REJECTED_LATENCY_S`; ``keep_instant`` False leaves them out.
    """
    finite = [(le, max(0.0, c - instant)) for le, c in zip(h.bounds, h.counts, strict=True)
              if not math.isinf(le)]  # fmt: skip
    total = max(0.0, h.counts[-1] - instant)
    out: list[float] = []
    for x in bounds:
        value = total if math.isinf(x) else _at(finite, x)
        if keep_instant and instant > 0 and x >= REJECTED_LATENCY_S:
            value += instant
        out.append(value)
    return out


def _at(points: list[tuple[float, float]], x: float) -> float:
    lower_le, lower_count = 0.0, 0.0
    for le, count in points:
        if x == le:
            return count
        if x < le:
            span = le - lower_le
            return lower_count + (count - lower_count) * (x - lower_le) / span
        lower_le, lower_count = le, count
    # Past the engine's top finite bound: the nearest lower bound's count.
    return lower_count


def buckets(
    h: HistogramSample,
    bounds: Sequence[float],
    spelling: Spelling,
    *,
    instant: float = 0.0,
    keep_instant: bool = True,
    share: float = 1.0,
) -> tuple[list[tuple[str, int]], float]:
    """prometheus-client buckets and sum of ``share`` of ``h`` at ``bounds``."""
    counts = cumulative(h, bounds, instant=instant, keep_instant=keep_instant)
    total_sum = h.sum if keep_instant else max(0.0, h.sum - instant * REJECTED_LATENCY_S)
    return (
        [(spelling(le), whole(c * share)) for le, c in zip(bounds, counts, strict=True)],
        total_sum * share,
    )
