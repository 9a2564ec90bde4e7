"""The protocols the health sources implement (the demo simulator, Prometheus).

A source reads; it never renders and never keeps stale data: when a refresh cannot be
completed it raises `SourceError` with one sentence, and the caller (`tui.refresh.tracker`)
keeps the last good values and marks them stale with their age.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from tui.domain.canary import Reading
from tui.domain.model import HistoryPoint, Snapshot


class HealthSource(Protocol):
    description: str
    """Shown in the header and as ``source`` in JSON, e.g. ``prometheus http://prom:9090``."""

    async def refresh(self) -> Snapshot:
        """Read every model's health now: a fixed number of queries, whatever the fleet size.

        Raises `tui.errors.SourceError` when the data cannot be read or makes no sense.
        """
        ...

    async def history(self) -> dict[str, list[HistoryPoint]]:
        """Per-model history over the configured window (oldest first), keyed by model name,
        with `tui.domain.model.AGGREGATE` for the whole API. Used once to backfill the plot;
        later points come from `refresh`. Raises `SourceError` like `refresh`."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class CanarySource(Protocol):
    """A source that also reads the gateway canary against its baseline."""

    async def canary(self, window_s: float) -> Reading:
        """Canary and baseline over the last ``window_s``. Raises `SourceError`."""
        ...

    async def canary_in_flight(self) -> int | None:
        """The canary's in-flight requests now; None when nothing reports them. Raises
        `SourceError`."""
        ...
