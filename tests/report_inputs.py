"""What the report's tests feed it: the default SLO, a fixed start, histories and
snapshots from tuples of figures, and timeline entries at offsets from that start.

Imported as ``report_inputs``: pytest puts ``tests/`` on ``sys.path``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tui.config import Slo
from tui.domain.model import AGGREGATE, HistoryPoint, KeyRejections, ModelHealth, Snapshot

SLO = Slo()
T0 = 1_795_000_000.0
OK = (1.0, 0.001, 0.001)
"""A history point's (p99 s, 5xx ratio, 429 ratio) well inside the SLO."""
NOW_OK = (1.0, 0.001, 0.001, 10.0)
"""A snapshot's (p99 s, 5xx ratio, 429 ratio, rps) well inside the SLO."""


def series(*values: tuple[float | None, float | None, float | None], step: float = 10.0
           ) -> list[HistoryPoint]:  # fmt: skip
    return [HistoryPoint(T0 + i * step, *v) for i, v in enumerate(values)]


def snapshot(models: dict[str, tuple[float, float, float, float]],
             keys: tuple[KeyRejections, ...] = ()) -> Snapshot:  # fmt: skip
    def health(name: str, v: tuple[float, float, float, float]) -> ModelHealth:
        return ModelHealth(name, p99_s=v[0], error_5xx_ratio=v[1], rate_429_ratio=v[2], rps=v[3])

    agg = models.pop(AGGREGATE)
    return Snapshot(
        taken_at=datetime.fromtimestamp(T0 + 600, UTC),
        source="test",
        models=tuple(health(n, v) for n, v in models.items()),
        aggregate=health(AGGREGATE, agg),
        rate_limited_keys=keys,
    )


def entry(kind: str, t: float, **fields: Any) -> dict[str, Any]:
    """A timeline entry ``t`` seconds after `T0`."""
    at = datetime.fromtimestamp(T0 + t, UTC).isoformat().replace("+00:00", "Z")
    return {"at": at, "kind": kind, **fields}
