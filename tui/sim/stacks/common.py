"""Small pieces every simulated stack shares."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.utils import floatToGoString

from tui.sim.engine import HistogramSample


def buckets(h: HistogramSample) -> list[tuple[str, float]]:
    """Cumulative bucket counts as prometheus-client writes them: ``le`` spelled by its
    ``floatToGoString`` (``"1.0"``, ``"+Inf"``), as vLLM's and any Python exporter's are
    (Prometheus 2.x stores ``"1.0"`` and ``"1"`` as different label values). Exported
    counts are whole requests, as a real counter's are; flooring keeps them cumulative
    because the engine's are."""
    return [(floatToGoString(le), math.floor(c)) for le, c in zip(h.bounds, h.counts, strict=True)]


def gauges(
    specs: tuple[tuple[str, str, Callable[[Any], float]], ...],
    labels: list[str],
    rows: Iterable[tuple[list[str], Any]],
) -> list[GaugeMetricFamily]:
    """One gauge family per (name, help, value of a row) spec, one sample per row."""
    families = [GaugeMetricFamily(name, text, labels=labels) for name, text, _ in specs]
    for values, row in rows:
        for family, (_, _, value) in zip(families, specs, strict=True):
            family.add_metric(values, value(row))
    return families
