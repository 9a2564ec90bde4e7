"""How numbers read on screen: short, fixed-width-friendly, and "–" for no data."""

from __future__ import annotations

from tui.model import AGGREGATE

NO_DATA = "–"
AGGREGATE_LABEL = "Σ all models"
"""How the whole API's row and plots are named on screen."""


def model_label(model: str) -> str:
    """A model's name as the screen shows it; the aggregate gets its Σ label."""
    return AGGREGATE_LABEL if model == AGGREGATE else model


def fmt_latency(seconds: float | None) -> str:
    if seconds is None:
        return NO_DATA
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    # Never more than five characters, so a figure and its symbol fit a six-cell column.
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 100:
        return f"{seconds:.1f}s"
    return f"{seconds:.0f}s"


def fmt_ratio(ratio: float | None) -> str:
    if ratio is None:
        return NO_DATA
    pct = ratio * 100
    if pct == 0:
        return "0%"
    if pct < 10:
        return f"{pct:.2f}%"
    return f"{pct:.1f}%"


def fmt_rps(rps: float | None) -> str:
    if rps is None:
        return NO_DATA
    if rps >= 10_000:
        return f"{rps / 1000:.0f}k"
    if rps >= 1000:
        return f"{rps / 1000:.1f}k"
    if rps >= 10:
        return f"{rps:.0f}"
    return f"{rps:.1f}"


def fmt_queue(depth: float | None) -> str:
    if depth is None:
        return NO_DATA
    return f"{depth:.0f}"
