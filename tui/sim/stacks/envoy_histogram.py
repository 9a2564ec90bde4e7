"""Envoy's latency histograms, which Istio's sidecars and Envoy Gateway's proxies share.

Envoy exports every histogram it has no ``histogram_bucket_settings`` for with the same
19 millisecond bounds, ``HistogramSettingsImpl::defaultBuckets()`` in envoyproxy/envoy
``source/common/stats/histogram_impl.cc``: 0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000,
2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000 (note the jump from
10 s to 30 s). Its Prometheus writer (``source/server/admin/prometheus_stats.cc``,
``generateHistogramOutput``) prints each bound as ``{:.32g}`` (``le="0.5"``,
``le="3600000"``) and then ``le="+Inf"``.

The engine keeps its gateway histogram in seconds on its own bounds
(`tui.sim.engine.GATEWAY_BUCKETS`), with the rate limiter's instant 429s inside it. Here
it is split into the requests a model served and those rejections, and the served ones
are re-bucketed onto Envoy's bounds by **linear interpolation** of the cumulative count
between the two engine bounds around each Envoy bound (from 0 requests at 0 s below the
first engine bound): the same assumption ``histogram_quantile`` makes inside a bucket,
so a quantile read from the Envoy buckets stays near the engine's own. Where an Envoy
bound lies past the engine's top finite bound (60 s), the engine only knows a request
took longer: those are counted under the first Envoy bound past it (300 s), as a
gateway's request timeout ends them by then. Rejections are placed exactly, at
`tui.sim.engine.REJECTED_LATENCY_S`.
"""

from __future__ import annotations

import bisect
import math

from tui.sim.engine import REJECTED_LATENCY_S, HistogramSample

ENVOY_BUCKETS_MS: tuple[float, ...] = (
    0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000,
    600000, 1800000, 3600000,
)  # fmt: skip
"""envoyproxy/envoy ``source/common/stats/histogram_impl.cc``, ``defaultBuckets()``."""


def served(h: HistogramSample, rejected: float) -> HistogramSample:
    """``h`` without the ``rejected`` requests the rate limiter answered (which the engine
    observed at `REJECTED_LATENCY_S`, under every one of its bounds)."""
    counts = tuple(max(0.0, c - rejected) for c in h.counts)
    return HistogramSample(h.bounds, counts, max(0.0, h.sum - rejected * REJECTED_LATENCY_S))


def _cumulative_at(
    finite: list[float], counts: tuple[float, ...], total: float, bound_s: float
) -> float:
    """Requests at or under ``bound_s``, by linear interpolation between the engine's
    finite bounds ``finite`` and their cumulative ``counts`` (see the module's note)."""
    if bound_s > finite[-1]:
        return total  # past the engine's top finite bound: see the module's note
    i = bisect.bisect_left(finite, bound_s)
    if finite[i] == bound_s:
        return counts[i]
    lo_b, lo_c = (0.0, 0.0) if i == 0 else (finite[i - 1], counts[i - 1])
    return lo_c + (counts[i] - lo_c) * (bound_s - lo_b) / (finite[i] - lo_b)


def envoy_buckets(
    h: HistogramSample, rejected: float = 0.0
) -> tuple[list[tuple[str, float]], float]:
    """Envoy's cumulative ``(le, count)`` buckets in milliseconds and the sum (ms) for the
    served requests ``h`` (seconds, engine bounds) plus ``rejected`` answered at once.
    Counts are whole requests (floored); flooring keeps them cumulative, in time and
    across bounds, because the interpolated counts are."""
    finite = [b for b in h.bounds if not math.isinf(b)]
    counts = h.counts[: len(finite)]
    out: list[tuple[str, float]] = []
    for ms in ENVOY_BUCKETS_MS:
        s = ms / 1000
        n = _cumulative_at(finite, counts, h.count, s)
        if s >= REJECTED_LATENCY_S:
            n += rejected
        out.append((f"{ms:.32g}", math.floor(n)))
    out.append(("+Inf", math.floor(h.count + rejected)))
    total_ms = (h.sum + rejected * REJECTED_LATENCY_S) * 1000
    return out, total_ms
