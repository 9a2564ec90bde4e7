"""Prometheus's ``histogram_quantile``, in pure Python.

The demo computes its figures from the simulator's counters exactly the way PromQL does
from the scraped series (bucket deltas over the window, then this interpolation), so
the demo and a Prometheus scraping `warroom simulate` show the same numbers.
Follows promql/quantile.go (Prometheus 2.42): linear interpolation inside the bucket,
the lower bound of the first bucket is 0, and a rank in the +Inf bucket answers the
highest finite bound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def histogram_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float | None:
    """The ``q`` quantile of cumulative ``buckets`` (upper bound, count), +Inf included.

    None where PromQL answers NaN: no observations, no +Inf bucket, or fewer than two
    buckets. ``q`` outside [0, 1] gives -Inf / +Inf as in PromQL.
    """
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    ordered = sorted(buckets)
    if len(ordered) < 2 or not math.isinf(ordered[-1][0]):
        return None
    # Counts from a scrape can dip between buckets (float rounding, racing increments);
    # PromQL forces them monotonic the same way.
    counts: list[float] = []
    highest = 0.0
    for _, count in ordered:
        highest = max(highest, count)
        counts.append(highest)
    total = counts[-1]
    if total <= 0:
        return None
    rank = q * total
    b = next(i for i, c in enumerate(counts) if c >= rank)
    if b == len(ordered) - 1:
        return ordered[-2][0]
    upper = ordered[b][0]
    if b == 0 and upper <= 0:
        return upper
    lower = 0.0 if b == 0 else ordered[b - 1][0]
    below = 0.0 if b == 0 else counts[b - 1]
    in_bucket = counts[b] - below
    if in_bucket <= 0:
        return None  # only for q = 0 over an empty first bucket: PromQL's 0/0, NaN
    return lower + (upper - lower) * ((rank - below) / in_bucket)
