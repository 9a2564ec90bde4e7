"""How busy each model's GPUs are, for the health pane's GPU column: pure, no I/O.

The GPU source names the served model on each GPU (`GpuState.model`); the mean
utilization of a model's GPUs says whether its latency is a compute limit (GPUs near
100 %) or something else (GPUs idle while requests wait). The runbooks' own signal
(`gpu_util_mean` in `tui.domain.signals`) is the same mean for one model.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from tui.domain.model import AGGREGATE, GpuState


def gpu_util_by_model(gpus: Iterable[GpuState]) -> dict[str, float | None]:
    """Mean utilization (0..1) of each model's GPUs, by model name, and of every GPU that
    serves a model under `AGGREGATE`. A model whose GPUs report no utilization maps to
    None; a model with no GPU at all is absent. GPUs no model holds count for neither:
    the whole API's row is the load on the GPUs that serve it."""
    readings: dict[str, list[float]] = defaultdict(list)
    for gpu in gpus:
        if not gpu.model:
            continue
        values = readings[gpu.model]
        if gpu.util_ratio is not None:
            values.append(gpu.util_ratio)
    means: dict[str, float | None] = {
        model: sum(values) / len(values) if values else None for model, values in readings.items()
    }
    every = [v for values in readings.values() for v in values]
    if readings:
        means[AGGREGATE] = sum(every) / len(every) if every else None
    return means
