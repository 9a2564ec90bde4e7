"""XID codes: what the NVIDIA driver's error numbers mean, and how a change becomes an event.

dcgm-exporter's ``DCGM_FI_DEV_XID_ERRORS`` is a gauge holding the *last* XID code a GPU
reported (FIELD-NOTES), so an XID is a change of that value between samples, never the
value itself: a GPU that hit XID 43 an hour ago still reads 43 now.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from tui.domain.model import GpuEvent, GpuState

MEANINGS: Mapping[int, str] = {
    13: "graphics engine exception",
    31: "GPU memory page fault",
    32: "invalid or corrupted push buffer stream",
    43: "GPU stopped processing",
    45: "preemptive cleanup after an earlier error",
    48: "double-bit ECC error",
    61: "internal micro-controller breakpoint",
    62: "internal micro-controller halt",
    63: "ECC page retirement or row remapping recorded",
    64: "ECC page retirement or row remapping failed",
    68: "video processor exception",
    74: "NVLink error",
    79: "GPU has fallen off the bus",
    92: "high single-bit ECC error rate",
    94: "contained ECC error",
    95: "uncontained ECC error",
    119: "GSP RPC timeout",
    120: "GSP error",
}
"""The codes an on-call engineer meets on inference nodes (NVIDIA's XID catalogue)."""


def describe(code: int) -> str:
    """``XID 43 (GPU stopped processing)``; an unknown code is just ``XID n``."""
    meaning = MEANINGS.get(code)
    return f"XID {code} ({meaning})" if meaning else f"XID {code}"


def xid_event(gpu: GpuState, code: int, at: datetime, note: str = "") -> GpuEvent:
    return GpuEvent(
        at=at,
        kind="xid",
        detail=describe(code) + note,
        node=gpu.node,
        gpu=gpu.gpu,
        pod=gpu.pod,
        model=gpu.model,
        namespace=gpu.namespace,
    )


@dataclass(frozen=True, slots=True)
class XidChange:
    """A GPU's XID gauge took a new non-zero code at ``at``."""

    gpu: GpuState
    code: int
    at: datetime


class XidWatch:
    """Turns successive readings of the last-XID gauge into events.

    `prime` takes the changes found in the history window before the first reading, so
    the XIDs of an incident already under way carry their real times. Without it, a code
    already set at the first reading is reported at that reading, saying so.
    """

    def __init__(self) -> None:
        self._codes: dict[str, int] = {}
        self.primed = False

    def prime(
        self, changes: Iterable[XidChange], already: Mapping[str, int] | None = None
    ) -> list[GpuEvent]:
        """Take the changes inside the history window as events, and ``already`` (GPU uuid
        -> code set before the window began) as the starting codes, with no event."""
        self._codes.update(already or {})
        events = []
        for change in sorted(changes, key=lambda c: c.at):
            self._codes[change.gpu.uuid] = change.code
            events.append(xid_event(change.gpu, change.code, change.at))
        self.primed = True
        return events

    def observe(self, gpus: Sequence[GpuState], at: datetime) -> list[GpuEvent]:
        events = []
        for gpu in gpus:
            if gpu.xid is None:
                continue
            before = self._codes.get(gpu.uuid)
            self._codes[gpu.uuid] = gpu.xid
            if gpu.xid == 0 or gpu.xid == before:
                continue
            if before is None and not self.primed:
                events.append(xid_event(gpu, gpu.xid, at, ", already set when first read"))
            else:
                events.append(xid_event(gpu, gpu.xid, at))
        self.primed = True
        return events
