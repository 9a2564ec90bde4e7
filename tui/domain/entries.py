"""The incident timeline's entries as data: the kinds that open and close an incident,
and the GPU events ``gpu.*`` entries carry. Pure: the file itself is `tui.store.timeline`;
the tracker, the report and the incident list read entries through these."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tui.domain.model import GpuEvent

OPENED = "incident.opened"
"""The first entry of an incident: its scope and its clock (`tui.store.incident`)."""
CLOSED = "incident.closed"


def gpu_event_of(entry: Mapping[str, Any]) -> GpuEvent | None:
    """The GPU event a ``gpu.*`` entry recorded; None for any other entry or a damaged one."""
    kind = entry.get("kind")
    at = entry.get("at")
    if not isinstance(kind, str) or not kind.startswith("gpu.") or not isinstance(at, str):
        return None
    try:
        when = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    gpu = entry.get("gpu")
    return GpuEvent(
        at=when.astimezone(UTC),
        kind=kind[4:],
        detail=str(entry.get("detail", "")),
        node=_str_or_none(entry.get("node")),
        gpu=gpu if isinstance(gpu, int) and not isinstance(gpu, bool) else None,
        pod=_str_or_none(entry.get("pod")),
        model=_str_or_none(entry.get("model")),
        namespace=_str_or_none(entry.get("namespace")),
    )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


XID_SAME_WITHIN_S = 300.0
"""A GPU's XID code read again this close to its recorded first sighting is that sighting
(history steps, refresh intervals and scrape lag), not a new XID."""


def same_xid(held: GpuEvent, event: GpuEvent) -> bool:
    """``event`` is ``held`` learned again: same GPU, same code, first seen at about the
    same time (a restart reads it from the gauge's history on another step grid)."""
    return (
        _code(held.detail) == _code(event.detail)
        and abs((event.at - held.at).total_seconds()) <= XID_SAME_WITHIN_S
    )


def _code(detail: str) -> str:
    return detail.split(" (", 1)[0].split(",", 1)[0]
