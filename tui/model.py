"""Domain types for one refresh: what every source returns and every widget renders.

Plain frozen dataclasses: a snapshot is a value. Sources build them, analysis reads
them, widgets render them, and `warroom snapshot --json` serialises them.
Ratios are 0..1 floats; latencies are seconds; ``None`` means "no data", never zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime

AGGREGATE = "(all models)"
"""Name of the row that stands for the whole API."""


@dataclass(frozen=True, slots=True)
class ModelHealth:
    """One model's serving health over the rate window, as the gateway and servers see it."""

    model: str
    p50_s: float | None = None
    p95_s: float | None = None
    p99_s: float | None = None
    ttft_p99_s: float | None = None
    rps: float | None = None
    error_5xx_ratio: float | None = None
    rate_429_ratio: float | None = None
    queue_depth: float | None = None
    stale: bool = False
    """True when these values are carried from an earlier refresh (the last one failed,
    or this model's series vanished); the snapshot's ``stale_since`` says since when."""

    def as_json(self) -> dict[str, object]:
        return {
            "model": self.model,
            "p50_s": _finite(self.p50_s),
            "p95_s": _finite(self.p95_s),
            "p99_s": _finite(self.p99_s),
            "ttft_p99_s": _finite(self.ttft_p99_s),
            "rps": _finite(self.rps),
            "error_5xx_ratio": _finite(self.error_5xx_ratio),
            "rate_429_ratio": _finite(self.rate_429_ratio),
            "queue_depth": _finite(self.queue_depth),
            "stale": self.stale,
        }

    def marked_stale(self) -> ModelHealth:
        return self if self.stale else replace(self, stale=True)


@dataclass(frozen=True, slots=True)
class KeyRejections:
    """429s attributed to one API key: tells a noisy tenant from a real limit problem."""

    api_key: str
    rate: float
    """Rejections per second over the rate window."""
    share: float
    """This key's fraction of all 429s (0..1)."""

    def as_json(self) -> dict[str, object]:
        return {"api_key": self.api_key, "rate": _finite(self.rate), "share": _finite(self.share)}


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    """One point of a model's history plot."""

    at: float
    """Unix seconds."""
    p99_s: float | None
    error_5xx_ratio: float | None
    rate_429_ratio: float | None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one refresh learned. Models are unordered here; `severity.rank` orders them."""

    taken_at: datetime
    """When the data was read (the simulated time in demo mode), timezone-aware UTC."""
    source: str
    """Where the data came from, e.g. ``prometheus http://prom:9090`` or ``demo gpu-oom``."""
    models: tuple[ModelHealth, ...]
    aggregate: ModelHealth
    rate_limited_keys: tuple[KeyRejections, ...] = ()
    """Top API keys by 429 rate, largest first."""
    error: str | None = None
    """One sentence: why the latest refresh failed, wholly or in part. None when it did not."""
    stale_since: datetime | None = None
    """When the oldest carried-over value was last read fresh; None when nothing is stale."""
    queries: int = 0
    """PromQL queries this refresh sent (0 for the demo): constant whatever the fleet size."""
    extras: dict[str, object] = field(default_factory=dict)
    """Room for later capabilities to add keys beside the ones above, never renaming them."""

    @property
    def stale(self) -> bool:
        return self.stale_since is not None

    def model(self, name: str) -> ModelHealth | None:
        if name == AGGREGATE:
            return self.aggregate
        for m in self.models:
            if m.model == name:
                return m
        return None


def _finite(value: float | None) -> float | None:
    """JSON has no NaN or Inf: a non-finite value is reported as no data."""
    if value is None or not math.isfinite(value):
        return None
    return round(value, 6)
